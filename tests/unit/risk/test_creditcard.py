"""Training on a creditcard.csv-format file: a synthetic one, since the 10-row fixture is too small to train
on and we do not ship the Kaggle dataset. Frauds differ in V14 (shifted), V17 (spread, both ways) and
Amount; the rest of the columns are noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_build.risk.creditcard import CreditcardResult, main, train_creditcard
from model_build.risk.data import CREDITCARD_COLUMNS, DataError


def synthetic_creditcard(path: Path, rows: int = 3000, fraud_rate: float = 0.04, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    fraud = rng.random(rows) < fraud_rate
    v = rng.normal(size=(rows, 28))
    v[fraud, 13] -= 2.5  # V14
    v[fraud, 16] *= 4.0  # V17: same mean, much wider
    amount = np.where(fraud, rng.lognormal(5.0, 1.2, rows), rng.lognormal(3.5, 1.0, rows)).round(2)
    time = np.sort(rng.uniform(0, 172_800, rows)).round()  # two days, seconds since the first transaction
    time -= time[0]
    frame = pd.DataFrame(v, columns=[f"V{i}" for i in range(1, 29)])
    frame.insert(0, "Time", time)
    frame["Amount"] = amount
    frame["Class"] = fraud.astype(int)
    assert tuple(frame.columns) == CREDITCARD_COLUMNS
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> CreditcardResult:
    directory = tmp_path_factory.mktemp("creditcard")
    return train_creditcard(synthetic_creditcard(directory / "creditcard.csv"), workdir=directory / "out")


def test_the_model_learns_and_keeps_to_the_fpr_budget(trained: CreditcardResult) -> None:
    model, baseline = trained.model, trained.baseline
    assert trained.rows == (1800, 450, 750)
    assert all(f >= 2 for f in trained.frauds)
    assert model.pr_auc > 5 * trained.holdout_fraud_rate
    assert model.pr_auc > baseline.pr_auc  # V17 matters only through its spread, which a linear model misses
    assert model.pr_auc > 0.5 and model.roc_auc > 0.85
    assert model.fpr <= 0.01 and baseline.fpr <= 0.01
    assert model.recall > 0.2
    assert 0.0 < baseline.pr_auc <= 1.0 and 0.0 < baseline.roc_auc <= 1.0
    assert trained.best_iteration >= 0


def test_the_onnx_export_loads_and_scores(trained: CreditcardResult) -> None:
    import onnxruntime as ort

    assert trained.onnx_path is not None and trained.onnx_path.is_file()
    session = ort.InferenceSession(str(trained.onnx_path), providers=["CPUExecutionProvider"])
    features = np.random.default_rng(0).normal(size=(2, 30)).astype(np.float32)
    outputs = session.run(None, {"features": features})
    probabilities = np.asarray(outputs[1])
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_the_markdown_table_names_both_scorers(trained: CreditcardResult) -> None:
    table = trained.markdown()
    assert "| XGBoost" in table and "| baseline: logistic regression" in table
    assert "PR-AUC" in table and "750 transactions" in table


def test_the_cli_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = synthetic_creditcard(tmp_path / "creditcard.csv", rows=2000, fraud_rate=0.05, seed=5)
    assert main([str(source)]) == 0
    out = capsys.readouterr().out
    assert "| scorer | PR-AUC | ROC-AUC | recall at threshold | FPR at threshold |" in out
    assert "| XGBoost" in out and "| baseline" in out


def test_no_frauds_in_the_holdout_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    source = synthetic_creditcard(tmp_path / "creditcard.csv")
    frame = pd.read_csv(source)
    frame.loc[frame.index >= int(0.75 * len(frame)), "Class"] = 0  # rows are in Time order
    frame.to_csv(source, index=False)
    with pytest.raises(DataError, match=r"creditcard\.csv: the holdout split \(750 rows.*has 0 fraud\(s\)"):
        train_creditcard(source)


def test_the_cli_reports_a_data_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing.csv")]) == 1
    assert "no such file" in capsys.readouterr().err
