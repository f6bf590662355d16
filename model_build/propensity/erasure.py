"""Users erased through `DELETE /users/{user_id}`, whose archived events training leaves out.

The erasure log (`UserErasuresTable`) keeps a hash of each erased user id (`commerce_ai.erasure.user_hash`),
so the archive's user ids are hashed and compared with it. USER_ERASURES_TABLE when set (a deployed
stack), else the local stack's table.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from commerce_ai.erasure import ErasureLog, user_hash

if TYPE_CHECKING:
    import pandas


def erasure_log() -> ErasureLog:
    configured = os.environ.get("USER_ERASURES_TABLE", "").strip()
    if configured:
        return ErasureLog(configured)
    from infra.template import Stack

    return ErasureLog(Stack().physical_name("UserErasuresTable"))


def without_erased(frame: pandas.DataFrame, erased: frozenset[str] | None = None) -> tuple[pandas.DataFrame, int]:
    """The events of users not in the erasure log (`erased`: user hashes; the log's, by default), and how
    many events were left out."""
    hashes = erasure_log().erased_hashes() if erased is None else erased
    if frame.empty or not hashes:
        return frame, 0
    keep = ~frame["user_id"].astype(str).map(user_hash).isin(hashes)
    return frame[keep].reset_index(drop=True), int((~keep).sum())
