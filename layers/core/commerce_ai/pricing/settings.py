"""Pricing's configuration: its tables, the reprice-requests and reprice-chunks queues, the decision-log bucket and the
price-changes topic (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class PricingSettings(EnvSettings):
    pricing_table: str | None = env_setting("PRICING_TABLE")
    pricing_catalog_table: str | None = env_setting("PRICING_CATALOG_TABLE")
    reprice_queue_url: str | None = env_setting("REPRICE_REQUESTS_QUEUE_URL")
    reprice_chunks_queue_url: str | None = env_setting("REPRICE_CHUNKS_QUEUE_URL")
    decision_log_bucket: str | None = env_setting("PRICING_DECISION_LOG_BUCKET")
    price_changes_topic_arn: str | None = env_setting("PRICE_CHANGES_TOPIC_ARN")


settings = settings_reader(PricingSettings)
