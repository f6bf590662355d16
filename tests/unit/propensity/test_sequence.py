"""The GRU challenger: its sequences are the booster's examples row for row, see only events before the
cut-off, and a small bounded training run gives calibrated probabilities for both horizons."""

from __future__ import annotations

import numpy as np
import pytest

from commerce_ai.stream.schema import EVENT_TYPES
from model_build.propensity import sequence
from model_build.propensity.data import read_user_file
from model_build.propensity.dataset import HORIZONS, Plan, examples
from tests.support.propensity import purchases_csv


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    frame = read_user_file(purchases_csv(tmp_path_factory.mktemp("seq") / "p.csv", users=120))
    plan = Plan.for_data(frame)
    return frame, plan, examples(frame, [*plan.training, plan.validation, plan.holdout])


def test_sequences_line_up_with_the_examples_and_stop_before_the_cutoff(small: tuple) -> None:
    frame, plan, data = small
    seqs = sequence.sequences(frame, [*plan.training, plan.validation, plan.holdout])
    assert seqs.users == data.users and np.array_equal(seqs.cutoff, data.cutoff)
    purchases = data.features[:, data_index("purchase_count_lifetime")]
    assert np.array_equal(np.expm1(seqs.history[:, 0]).round(), purchases)  # every event before it, no more
    assert (seqs.lengths == np.minimum(purchases, sequence.MAX_EVENTS)).all()
    until_cutoff = seqs.steps[:, :, len(EVENT_TYPES)]
    filled = np.arange(sequence.MAX_EVENTS)[None, :] < seqs.lengths[:, None]
    assert (until_cutoff[filled] > 0).all() and (seqs.steps[~filled] == 0).all()


def data_index(name: str) -> int:
    from commerce_ai.propensity.features import FEATURE_NAMES

    return FEATURE_NAMES.index(name)


def test_a_bounded_training_run_scores_the_holdout(small: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    frame, plan, data = small
    monkeypatch.setattr(sequence, "EPOCHS", 1)
    challenger = sequence.train_challenger(frame, plan, data)
    holdout = data.at(plan.holdout)
    assert challenger.epochs == 1 and 1 <= challenger.best_epoch <= challenger.epochs
    for days in HORIZONS:
        p = challenger.holdout_probability[days]
        assert p.shape == (len(holdout.users),) and ((p > 0) & (p < 1)).all()
