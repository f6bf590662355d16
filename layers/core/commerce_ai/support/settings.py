"""Customer service's configuration (see commerce_ai.config): its tables and the agents' queue."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class SupportSettings(EnvSettings):
    conversations_table: str | None = env_setting("SUPPORT_CONVERSATIONS_TABLE")
    orders_table: str | None = env_setting("SUPPORT_ORDERS_TABLE")
    faq_table: str | None = env_setting("SUPPORT_FAQ_TABLE")
    tickets_table: str | None = env_setting("SUPPORT_TICKETS_TABLE")
    handoff_queue_url: str | None = env_setting("SUPPORT_HANDOFF_QUEUE_URL")
    graph_table: str | None = env_setting("SUPPORT_GRAPH_TABLE")


settings = settings_reader(SupportSettings)
