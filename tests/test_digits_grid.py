"""The grids and their verdict rules: replicates that disagree are inconclusive, the summary verdict
separates refuted from not reproduced, and the grids' sizes are what the docstrings state."""

from __future__ import annotations

import pytest

from models.digits_experiment.analysis import compare
from models.digits_experiment.config import ConfigError
from models.digits_experiment.grid import ALL_NORMALISED, GRIDS, Grid, combine, summary_verdict


def test_summary_verdicts():
    assert summary_verdict("holds", None) == "reproduced"
    assert summary_verdict("holds", "fails") == "reproduced"
    assert summary_verdict("fails", "fails") == "refuted"
    assert summary_verdict("fails", "holds") == "not reproduced"
    assert summary_verdict("fails", "inconclusive") == "not reproduced"
    assert summary_verdict("fails", None) == "not reproduced"  # no second reading run: not refuted
    assert summary_verdict("inconclusive", "holds") == "inconclusive"


def test_replicates_must_agree():
    faster, slower, tied = compare([1] * 10, [2] * 10), compare([2] * 10, [1] * 10), compare([1] * 10, [1] * 10)
    assert combine([faster, faster])[0] == "holds"
    assert combine([slower, slower])[0] == "fails"
    decision, reason = combine([faster, tied])
    assert decision == "inconclusive" and "flips with the base seed" in reason
    assert combine([faster, slower])[0] == "inconclusive"


def test_grids():
    ci, thorough = GRIDS["ci"], GRIDS["thorough"]
    assert (ci.seeds, ci.steps, ci.base_seeds, ci.settings) == (10, 100, (0, 1000), (ALL_NORMALISED,))
    assert ci.runs() == 140 and thorough.runs() == 880  # the counts the grid docstring states
    assert ci.seed_range(1000) == tuple(range(1000, 1010))
    assert thorough.setting_config(ALL_NORMALISED).compared_weight_norm and thorough.protocol.steps == 1000


@pytest.mark.parametrize(("changes", "word"), [
    ({"seeds": 0}, "seeds"), ({"steps": True}, "steps"), ({"base_seeds": (0, 0)}, "base_seeds"),
    ({"base_seeds": ()}, "base_seeds"), ({"settings": ("nope",)}, "settings"),
])
def test_bad_grid(changes, word):
    with pytest.raises(ConfigError, match=word):
        Grid(**{"name": "x", "seeds": 2, "steps": 3, **changes})
