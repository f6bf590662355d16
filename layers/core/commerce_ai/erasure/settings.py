"""The shop-wide erasure log's configuration (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class ErasureSettings(EnvSettings):
    user_erasures_table: str | None = env_setting("USER_ERASURES_TABLE")


settings = settings_reader(ErasureSettings)
