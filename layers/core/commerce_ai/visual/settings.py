"""Visual search's configuration: the add-log of images indexed since the last rebuild, the catalogue images'
bucket (the shop's uploads bucket) and the largest image body taken (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader, whole_number


@dataclass(frozen=True)
class VisualSettings(EnvSettings):
    visual_deltas_table: str | None = env_setting("VISUAL_DELTAS_TABLE")
    # Seconds between re-reads of the add-log by a warm search container.
    visual_delta_refresh_seconds: int = env_setting("VISUAL_DELTA_REFRESH_SECONDS", 30, whole_number)


settings = settings_reader(VisualSettings)
