"""Risk's currencies: the exchange-rate table's syntax and the conversion (commerce_ai.risk.currency)."""

from __future__ import annotations

import pytest

from commerce_ai.config import ConfigError
from commerce_ai.errors import InvalidInput
from commerce_ai.risk.currency import in_shop_currency, parse_rates


def test_rates_parse_and_convert() -> None:
    rates = parse_rates("RISK_EXCHANGE_RATES", "EUR=1.08, GBP=1.27")
    assert rates == {"EUR": 1.08, "GBP": 1.27}
    assert in_shop_currency(10.0, "EUR", rates) == 10.8
    assert in_shop_currency(10.0, "USD", rates) == 10.0
    with pytest.raises(InvalidInput, match="payments in USD, EUR, GBP only"):
        in_shop_currency(10.0, "JPY", rates)


@pytest.mark.parametrize("raw", ["EUR", "EUR=0", "EUR=-1", "eur=1.1", "EUR=abc", "USD=1.1"])
def test_bad_rate_tables_name_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="RISK_EXCHANGE_RATES"):
        parse_rates("RISK_EXCHANGE_RATES", raw)
