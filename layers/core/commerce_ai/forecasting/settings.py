"""Forecasting's configuration: its table (histories, forecasts, inventory settings), the daily run's chunk
queue and the shop's uploads bucket (sales files under `uploads/forecasts/`) (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class ForecastingSettings(EnvSettings):
    forecasting_table: str | None = env_setting("FORECASTING_TABLE")
    forecast_chunks_queue_url: str | None = env_setting("FORECAST_CHUNKS_QUEUE_URL")
    uploads_bucket: str | None = env_setting("UPLOADS_BUCKET")


settings = settings_reader(ForecastingSettings)
