"""Risk control (fraud scoring) models, trained on the documented transaction simulator.

`simulator` generates customers, merchants, logins and payments with five labelled fraud scenarios
(there is no real labelled fraud data offline); `data` reads the public Kaggle creditcard.csv for users
who have it. `build` replays the simulation through serving's velocity and graph feature code
(`dataset`), trains XGBoost, picks thresholds on validation data (`train`) and exports `risk-model`
(ONNX + decision policy) and `risk-graph` (the graph-feature snapshot).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model_build import Built

MODELS: list[str] = ["risk-model", "risk-graph"]


def build(workdir: Path) -> list[Built]:
    from model_build.progress import stage
    from model_build.risk.export import check_onnx, export, summary_metrics, train

    trained = train(progress=False)  # its stages show progress (model_build.progress)
    with stage("export to ONNX, check against the booster"):
        metrics = summary_metrics(trained)
        built = export(trained, workdir, metrics)
        difference = check_onnx(trained, built[0].directory / built[0].entrypoint)
    if difference > 1e-4:
        raise RuntimeError(f"the ONNX export differs from the booster by {difference:.2e}")
    return built


def build_inputs() -> dict[str, str]:
    """What determines `build` besides its code (the build cache's key): the simulator's settings, and the
    key the published graph's pseudonyms are made with (its id, not the key)."""
    from commerce_ai.risk.pseudonyms import key_id
    from model_build.risk.pseudonym_key import local_pseudonym_key
    from model_build.risk.simulator import SimulatorConfig

    return {
        "setting:simulator": SimulatorConfig().model_dump_json(),
        "setting:pseudonym_key_id": key_id(local_pseudonym_key().encode()),
    }


def evaluate(report_dir: Path) -> Path:
    from model_build.risk.report import write_report

    return write_report(report_dir)
