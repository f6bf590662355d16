"""Propensity's configuration: the profiles and jobs tables, the exports bucket (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class PropensitySettings(EnvSettings):
    user_profiles_table: str | None = env_setting("USER_PROFILES_TABLE")
    propensity_jobs_table: str | None = env_setting("PROPENSITY_JOBS_TABLE")
    propensity_exports_bucket: str | None = env_setting("PROPENSITY_EXPORTS_BUCKET")


settings = settings_reader(PropensitySettings)
