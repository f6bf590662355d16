"""Propensity's configuration: the profiles table (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class PropensitySettings(EnvSettings):
    user_profiles_table: str | None = env_setting("USER_PROFILES_TABLE")


settings = settings_reader(PropensitySettings)
