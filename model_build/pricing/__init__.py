"""Pricing models: demand and elasticity from Dominick's orange juice (or a user's own sales file).

Issue 3 is in progress: data, demand models, ONNX export and the report are here; the simulator, the
policy and the serving functions follow. No function serves `pricing-demand` yet, so `MODELS` is empty
and `make run` builds nothing for pricing; `make eval` writes `reports/pricing.md`.
"""

from __future__ import annotations

from pathlib import Path

MODELS: list[str] = []


def evaluate(report_dir: Path) -> Path:
    from model_build.pricing.report import write_report

    return write_report(report_dir)
