"""The local stack's risk-graph pseudonym key (`commerce_ai.risk.pseudonyms`), kept across `up`s.

`RISK_PSEUDONYM_KEY` if set, else `.commerce-ai/risk-pseudonym-key` (`COMMERCE_AI_STATE_DIR`), created
with a random key on first use. Bootstrap puts it in the stack's SSM parameter, which the functions read;
the risk build pseudonymises the graph snapshot it publishes with it, and names the key's id among its
build inputs, so a cached build made under another key is rebuilt rather than served unreadable. Only
`up`'s build and bootstrap read it: functions get the key from SSM (`commerce_ai.risk.pseudonyms`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the clone (infra.template.ROOT, not imported: images copy this folder)
KEY_FILE_NAME = "risk-pseudonym-key"


def key_file() -> Path:
    return Path(os.environ.get("COMMERCE_AI_STATE_DIR") or ROOT / ".commerce-ai").resolve() / KEY_FILE_NAME


def local_pseudonym_key() -> str:
    key = os.environ.get("RISK_PSEUDONYM_KEY", "").strip()
    if key:
        return key
    path = key_file()
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key + "\n")
    return key
