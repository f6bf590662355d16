"""The catalogue's configuration: its table and the shop's uploads bucket (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class CatalogSettings(EnvSettings):
    catalog_table: str | None = env_setting("CATALOG_TABLE")
    uploads_bucket: str | None = env_setting("UPLOADS_BUCKET")


settings = settings_reader(CatalogSettings)
