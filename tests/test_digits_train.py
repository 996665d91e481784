"""Training runs: reproducible per seed, recorded at the configured steps, non-finite states
recorded (not raised), and the recorded metrics equal the NC metrics of the features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.digits_experiment.config import ExperimentConfig
from models.digits_experiment.data import load_data
from models.digits_experiment.experiment import comparable, compare_family, compare_subclaim, run_arms, subclaim_time
from models.digits_experiment.network import DigitsMLP
from models.digits_experiment.train import STATUS_NONFINITE, STATUS_OK, _threads, train
from models.nc_metrics import binary_nc1, binary_nc3

SHORT = ExperimentConfig(steps=12, dense_until=4, eval_every=5)


@pytest.fixture(scope="module")
def data():
    return load_data(SHORT)


def test_same_seed_same_history(data):
    a, b = train(SHORT, data, 3), train(SHORT, data, 3)
    for name in a.records:
        np.testing.assert_array_equal(a[name], b[name])
    c = train(SHORT, data, 4)
    assert not np.array_equal(a["nc3"], c["nc3"])
    np.testing.assert_array_equal(a.steps, [0, 1, 2, 3, 4, 5, 10, 12])
    assert a.status == STATUS_OK and a.nonfinite_step is None


def test_records_are_the_metrics_of_the_features(data):
    """Step-0 records equal nc_metrics applied to the freshly initialised network's features."""
    cfg = SHORT.with_loss("logistic")
    history = train(cfg, data, 7)
    model = DigitsMLP(data.d, cfg, torch.Generator().manual_seed(7))
    with torch.no_grad(), _threads(1):  # the thread count train() uses: identical float32 rounding
        H, _ = model.features(torch.tensor(data.X_train, dtype=torch.float32))
        v = model.output_weight().double().numpy()
    # 1e-12: the same float32 features, the same float64 metric code.
    assert history["nc1"][0] == pytest.approx(binary_nc1(H.double().numpy(), data.y_train), rel=1e-12)
    assert history["nc3"][0] == pytest.approx(binary_nc3(v, H.double().numpy(), data.y_train), rel=1e-12)


def test_nonfinite_run_is_recorded_not_raised(data):
    """A step size of 1e38 overflows float32: the run ends with status nonfinite and NaN records."""
    history = train(SHORT.changed(step_size=1e38), data, 0)
    assert history.status == STATUS_NONFINITE
    assert history.nonfinite_step is not None and history.nonfinite_step < SHORT.steps
    assert np.isnan(history["test_accuracy"][-1])
    assert subclaim_time(history, "accuracy") == float("inf")


def test_bad_seed(data):
    with pytest.raises(ValueError, match="seed"):
        train(SHORT, data, -1)


def test_every_arm_and_controls(data, tmp_path):
    results = run_arms(SHORT, [0, 1], data, cache_dir=tmp_path)
    assert results.losses == ("linear", "logistic", "mse", "label_smoothing", "focal")
    for loss in results.losses:
        assert [h.config.loss for h in results.arm(loss)] == [loss, loss]
    same = compare_subclaim(results, "nc3", "focal", same_arm="logistic")
    assert same.ties == 2 and same.decision == "inconclusive"
    straight, swapped = compare_subclaim(results, "nc3", "mse"), compare_subclaim(results, "nc3", "mse", swap=True)
    assert straight.t_linear == swapped.t_other
    family = compare_family(results)
    # Holm's family holds the comparisons that tested something: a loss diverged in every seed is left out.
    tested = [key for key in family if comparable(results, key[1])]
    assert len(family) == 20 and len(tested) >= 12 and all(family[key].family_size == len(tested) for key in tested)
    for key in set(family) - set(tested):
        assert family[key].ties == family[key].seeds and family[key].decision == "inconclusive"
    with pytest.raises(ValueError, match="subclaim"):
        subclaim_time(results.linear[0], "nc4")
    # The cache returns the same histories, and a changed setting is a new entry.
    again = run_arms(SHORT, [0, 1], data, cache_dir=tmp_path, losses=("logistic",))
    np.testing.assert_array_equal(again.logistic[1]["nc1"], results.logistic[1]["nc1"])
    assert len(list(tmp_path.glob("*.npz"))) == 10
    run_arms(SHORT.changed(width=8), [0], data, cache_dir=tmp_path, losses=())
    assert len(list(tmp_path.glob("*.npz"))) == 11


def test_shared_linear_arm(data):
    """The linear arm ignores the compared arms' normalisation, so a setting that changes only it
    takes the linear runs over; a setting that changes the linear arm trains it again."""
    first = run_arms(SHORT, [0], data, losses=("logistic",))
    normalised = run_arms(SHORT.changed(compared_weight_norm=True), [0], data, losses=("logistic",), reuse=first)
    assert normalised.linear is first.linear and normalised.logistic is not first.logistic
    wider = run_arms(SHORT.changed(width=8), [0], data, losses=(), reuse=first)
    assert wider.linear is not first.linear
