"""Recommendations' configuration: the session table, the experiment the ranker may be tested in, and the
shared catalogue (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class RecommendationSettings(EnvSettings):
    recommendation_sessions_table: str | None = env_setting("RECOMMENDATION_SESSIONS_TABLE")
    # The experiment whose arms name ranker versions; unset or undefined: the active version serves everyone.
    recommendation_experiment: str | None = env_setting("RECOMMENDATION_EXPERIMENT", "recommendations-ranker")


settings = settings_reader(RecommendationSettings)
