"""Risk's configuration: its state and results tables and the outcomes queue (see commerce_ai.config)."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.config import EnvSettings, env_setting, settings_reader


@dataclass(frozen=True)
class RiskSettings(EnvSettings):
    risk_state_table: str | None = env_setting("RISK_STATE_TABLE")
    risk_results_table: str | None = env_setting("RISK_RESULTS_TABLE")
    risk_outcomes_queue_url: str | None = env_setting("RISK_OUTCOMES_QUEUE_URL")
    # Other currencies a payment may be in, converted to the shop's (commerce_ai.risk.currency); none by default.
    risk_exchange_rates: str | None = env_setting("RISK_EXCHANGE_RATES")  # `EUR=1.08,GBP=1.27`
    # The SSM SecureString of the graph artifact's pseudonym key (commerce_ai.risk.pseudonyms).
    risk_pseudonym_key_parameter: str | None = env_setting("RISK_PSEUDONYM_KEY_PARAMETER")


settings = settings_reader(RiskSettings)
