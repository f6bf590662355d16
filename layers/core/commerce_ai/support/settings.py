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
    # The WebSocket API's management endpoint (its stage URL). boto3 reads it itself for the
    # `apigatewaymanagementapi` client; without it a function has no connection to push to.
    connections_endpoint: str | None = env_setting("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI")
    # The chat's wss:// URL, which the H5 page (GET /support/chat) connects to.
    websocket_url: str | None = env_setting("SUPPORT_WEBSOCKET_URL")


settings = settings_reader(SupportSettings)
