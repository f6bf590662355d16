"""The pricing catalog's storage on the emulator (real boto3): one item per SKU whose writers never lose each
other's updates, the stage index, and the price-change events of a tick and of its retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai.pricing.catalog import CatalogStore, SkuSettings, SkuState
from commerce_ai.pricing.lifecycle import Stage
from commerce_ai.pricing.ticks import tick_stamp
from infra.template import Stack

START = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def catalog(stack: Stack) -> CatalogStore:
    return CatalogStore(stack.physical_name("PricingCatalogTable"))


class Interleaved(CatalogStore):
    """A catalog whose next reads of a SKU each run one step of another writer right after the read, so
    that writer lands between this one's read and its write."""

    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.between: list[Callable[[], Any]] = []

    def _stored(self, sku: str, client: Any | None = None) -> dict[str, Any] | None:
        item = super()._stored(sku, client)
        if self.between:
            self.between.pop(0)()
        return item


def test_admin_put_competitor_observation_and_tick_on_one_sku_never_lose_an_update(stack: Stack) -> None:
    """Each writer lands between another's read and write, in every order that matters: an admin's PUT,
    the competitor queue's index and a tick's change. Whatever lands first, nothing is overwritten: a
    tick from a read older than an admin's change is refused (superseded), an admin reads again and
    decides again, and the competitor index is never touched by the others nor blocks them."""
    catalog = Interleaved(stack.physical_name("PricingCatalogTable"))
    sku = "interleaved-one"
    catalog.put(SkuState(sku=sku, price=3.0, cost=1.0, history=[3.0]))

    def tick_change(price: float, n: int) -> bool:
        (seen,) = [s for s in CatalogStore(catalog.table).read([sku]).states() if isinstance(s, SkuState)]
        at = START + timedelta(minutes=15 * n)
        return catalog.apply_all([(seen, price)], at, tick_stamp(at)).applied[sku]

    # 1. A tick reads; an admin's PUT (with a competitor index landing inside it) comes before its write.
    (seen,) = [s for s in catalog.read([sku]).states() if isinstance(s, SkuState)]
    catalog.between = [lambda: catalog.set_competitor_index(sku, 2.5, START)]
    catalog.configure(sku, SkuSettings(inventory=10.0))
    assert catalog.apply_all([(seen, 2.7)], START, tick_stamp(START)).applied == {sku: False}, "superseded"
    # 2. A tick reads; a competitor index lands before its write: the change applies, the index stays.
    (seen,) = [s for s in catalog.read([sku]).states() if isinstance(s, SkuState)]
    catalog.set_competitor_index(sku, 2.6, START)
    later = START + timedelta(minutes=15)
    assert catalog.apply_all([(seen, 2.7)], later, tick_stamp(later)).applied == {sku: True}
    # 3. An admin's PUT reads; a whole tick (read and change) lands before its write: the admin reads again.
    catalog.between = [lambda: tick_change(2.43, 2)]
    configured, old_price = catalog.configure_with_change(sku, SkuSettings(price=3.3), START + timedelta(hours=1))
    assert old_price == 2.43, "the admin's change was decided again from the tick's price"
    # 4. A competitor index lands inside an admin's PUT that changes the floor.
    catalog.between = [lambda: catalog.set_competitor_index(sku, 2.8, START)]
    catalog.configure(sku, SkuSettings(floor=1.5))

    stored = catalog.get(sku)
    assert stored.inventory == 10.0 and stored.floor == 1.5, "every admin setting stands"
    assert stored.competitor_index == 2.8, "the competitor queue's last index stands"
    assert stored.history == [3.0, 2.7, 2.43, 3.3], "every applied change is in, in order; the superseded one not"
    assert (stored.price, stored.pinned) == (configured.price, True)
    assert stored.revision == 1 + 3 + 2, "put, three admin writes and two tick changes, each counted once"


def test_a_tick_refuses_over_an_admin_price_and_keeps_a_competitor_index_that_landed_meanwhile(
    catalog: CatalogStore,
) -> None:
    sku = "superseded-one"
    catalog.put(SkuState(sku=sku, price=3.0, cost=1.0, history=[3.0]))
    (seen,) = [s for s in catalog.read([sku]).states() if isinstance(s, SkuState)]
    catalog.set_competitor_index(sku, 2.9, START)  # between the tick's read and write: does not block it
    assert catalog.apply_all([(seen, 2.7)], START, tick_stamp(START)).applied == {sku: True}
    (seen,) = [s for s in catalog.read([sku]).states() if isinstance(s, SkuState)]
    catalog.configure(sku, SkuSettings(price=3.49))  # an admin's price between read and write: it does
    later = START + timedelta(minutes=15)
    assert catalog.apply_all([(seen, 2.43)], later, tick_stamp(later)).applied == {sku: False}
    stored = catalog.get(sku)
    assert (stored.price, stored.competitor_index, stored.pinned) == (3.49, 2.9, True)
    assert stored.history == [3.0, 2.7, 3.49]


def test_the_stage_index_answers_every_sku_of_a_stage(catalog: CatalogStore) -> None:
    names = [f"stage-index-{n}" for n in range(3)]
    for name in names:
        catalog.put(SkuState(sku=name, price=2.0, cost=1.0))
    end = datetime.now(UTC) + timedelta(days=10)
    for name in names[:2]:
        catalog.configure(
            name, SkuSettings(stage=Stage.CLEARANCE, clearance_end=end, salvage_price=1.2, inventory=40.0)
        )
    found: list[str] = []
    cursor = None
    while True:
        page, cursor = catalog.in_stage(Stage.CLEARANCE, 1, cursor)
        found.extend(page)
        if cursor is None:
            break
    assert set(names[:2]) <= set(found) and names[2] not in found
    mature, _ = catalog.in_stage(Stage.MATURE, 200, None)
    assert names[2] in mature or len(mature) == 200
