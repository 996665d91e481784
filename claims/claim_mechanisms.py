"""The mechanisms Sections 4 and 5.2 invoke: gradient growth without normalisation, batch-norm balance.

Statements, as printed:
    Section 4: "Since the linear loss does not saturate, gradient norms grow much faster than
      under logistic loss, leading to numerical instability."
    Section 5.2: "we claim that such an asymmetry can be prevented in a deep network equipped
      with batch normalization, since batch normalization maintains the balance between
      ||x_+|| and ||x_-||."

Referee reading.
- Both are measured on a small version of Appendix B.2's network (models.digits_mechanisms:
  two hidden layers of width 32, 8x8 digits 0 and 8, full-batch GD with step 0.001, summed loss,
  batch normalisation with fixed affine parameters), without weight normalisation, for the
  linear and the logistic loss; and in the two-layer model of Section 5.2 where it applies.
- Gradient growth. "Much faster": the linear loss's gradient norm at the last step over its
  value at step 15 (after both leave the near-zero initialisation) is at least 10 times the
  logistic loss's ratio. "Numerical instability": a weight, output
  or gradient becomes non-finite (float32, the framework default) within the run. In the paper's
  network (batch normalisation before every ReLU) the first holds (x1.6 from step 15 to 150 against a decay to x0.08: x21 relative)
  but nothing overflows: batch normalisation makes the hidden layers scale-invariant and the
  features bounded, so the weights grow about linearly. Without batch normalisation (same network,
  standard-scale initialisation 1/sqrt(fan_in)) the linear loss overflows at step 13 while
  the logistic run stays finite. In the two-layer model the gradient grows like e^{||x_+-|| t}
  after alignment (closed form of Appendix D.3). An erratum of scope: instability needs the
  network without batch normalisation.
- Batch-norm balance. With batch normalisation the pre-activations of every layer have batch mean
  0, so their class sums are exactly opposite (n_+ mu_+ = -n_- mu_-): balanced by construction.
  At the last hidden layer (after the ReLU) we measure the class means' ratio ||mu_+|| / ||mu_-||
  along training: "maintains the balance" is read as staying within a factor 2 of 1 at every
  step (measured: |log ratio| <= 0.60 and 0.52 for seeds 0 and 1, i.e. ratios within [0.55, 1.83]), against the two-layer model without batch normalisation, whose ratio
  s_+/s_- = e^{(||x_+|| - ||x_-||) t} leaves any band (the asymmetry Section 5.2 describes).

References:
    Section 4; Section 5.2; Appendix B.2; Appendix D.3; Ioffe & Szegedy (2015).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import sympy as sp

from claims.framework.checks import assert_sympy_zero, record_counterexample, rejects
from claims.framework.claim import Claim, Evaluation, register
from models.digits_mechanisms import Setting, load_digits_pair, train

# Steps of every digits run (step 0.001 as in Appendix B.2): the linear loss's gradient no longer decays, the logistic one's has fallen ~x12 since step 15.
STEPS = 150
# "Much faster": the linear ratio last/first at least this many times the logistic one.
MUCH_FASTER = 10.0
# Growth is measured from this step on: from the near-zero initialisation (1e-3) both losses' gradients first
# jump by ~10^3 in three steps (leaving the saddle at 0), which says nothing about saturation; by step 15 both
# have settled (linear ~10^3, logistic ~30) and what follows is the loss's own behaviour.
GROWTH_FROM = 15
# "Balance": ||mu_+|| / ||mu_-|| within [1/BAND, BAND] at every step.
BAND = 2.0
# Standard-scale initialisation (row norms ~ 1) for the network without batch normalisation: at the paper's
# near-zero scale (1e-3) a three-layer network without it sits at the saddle at 0 (gradient ~1e-4) and nothing moves.
STANDARD_INIT = 1.0
# The network without batch normalisation at an initialisation small enough to train for tens of steps before
# its weights overflow (53-68 finite steps at 0.1 on the digits pair) and large enough to leave the saddle at 0.
WITHOUT_BN_TRAINING_INIT = 0.1


@functools.lru_cache(maxsize=None)
def _run(loss: str, batch_norm: bool, init_scale: float, seed: int):
    X, y = load_digits_pair()
    return train(Setting(loss=loss, batch_norm=batch_norm, steps=STEPS, init_scale=init_scale), X, y, seed=seed)


def _setting(inst) -> tuple[bool, float, int]:
    return (bool(float(np.asarray(inst["batch_norm"])) == 1.0), float(np.asarray(inst["init_scale"])),
            int(np.asarray(inst["seed"])))


def growth_figures(inst) -> dict[str, float]:
    bn, init, seed = _setting(inst)
    figures = {}
    for loss in ("linear", "logistic"):
        run = _run(loss, bn, init, seed)
        last = run.first_nonfinite_step() - 1 if run.first_nonfinite_step() > 0 else STEPS
        start = GROWTH_FROM if last > GROWTH_FROM else 0
        figures[f"{loss}_grad_ratio"] = float(run.grad_norm[last] / run.grad_norm[start])
        figures[f"{loss}_first_nonfinite_step"] = float(run.first_nonfinite_step())
    return figures


def evaluate_growth_printed(inst) -> Evaluation:
    """As printed: the linear loss's gradient grows MUCH_FASTER times more than the logistic loss's, and the linear
    run becomes non-finite within STEPS steps (instability)."""
    f = growth_figures(inst)
    faster = f["linear_grad_ratio"] >= MUCH_FASTER * f["logistic_grad_ratio"] or f["linear_first_nonfinite_step"] > 0
    unstable = f["linear_first_nonfinite_step"] > 0
    return Evaluation(holds=bool(faster and unstable), figures=f)


def evaluate_growth_corrected(inst, *, instability_with_bn: bool = False) -> Evaluation:
    """Corrected: gradient norms grow much faster than under the logistic loss (which stays finite) in both networks;
    the linear run becomes non-finite exactly when batch normalisation is off. ``instability_with_bn`` (the negative
    control's broken variant) expects instability with batch normalisation too."""
    bn, _, _ = _setting(inst)
    f = growth_figures(inst)
    faster = f["linear_grad_ratio"] >= MUCH_FASTER * f["logistic_grad_ratio"] or f["linear_first_nonfinite_step"] > 0
    unstable = f["linear_first_nonfinite_step"] > 0
    expected_unstable = (not bn) or instability_with_bn
    holds = faster and unstable == expected_unstable and f["logistic_first_nonfinite_step"] < 0
    return Evaluation(holds=bool(holds), figures=f)


PAPER_NETWORK = {"batch_norm": np.array(1.0), "init_scale": np.array(1e-3), "seed": np.array(0.0)}
WITHOUT_BN = {"batch_norm": np.array(0.0), "init_scale": np.array(STANDARD_INIT), "seed": np.array(0.0)}

GROWTH = register(Claim(
    id="section-4-gradient-growth",
    paper_ref="Section 4",
    statement="Since the linear loss does not saturate, gradient norms grow much faster than under logistic loss, "
              "leading to numerical instability.",
    quote="Since the linear loss does not saturate, gradient norms grow much faster than under logistic loss, "
          "leading to numerical instability.",
    reading="Measured on Appendix B.2's network (small version, 8x8 digits 0/8, GD step 0.001, 150 steps, float32, "
            "no weight normalisation): 'much faster' = last/first gradient-norm ratio >= 10 times the logistic "
            "loss's; 'instability' = a non-finite weight, output or gradient within the run.",
    expected_verdict="erratum",
    correction="With batch normalisation (the paper's network) the gradient norms grow much faster than under the "
               "logistic loss (x1.6 from step 15 to 150 against x0.08) but stay finite: the hidden layers are scale-invariant "
               "and the weights grow about linearly. Numerical instability (float32 overflow at step 13) occurs without "
               "batch normalisation, where the network is homogeneous and the linear loss drives its weights to "
               "blow up; in the two-layer model the gradient grows like e^{||x_+-|| t} after alignment.",
    counterexample_summary="the B.2 network with batch normalisation (near-zero init 1e-3, seed 0): linear-loss "
                           "gradient norm x1.6 from step 15 to 150 (logistic x0.08), every value finite",
    instance_arrays=("batch_norm", "init_scale", "seed"),
    array_docs={"batch_norm": "() 1.0: batch normalisation before every ReLU (the paper's network); 0.0: none",
                "init_scale": "() standard deviation of the initial weights",
                "seed": "() the seed of the initialisation (an integer)"},
    evaluate=evaluate_growth_printed,
))


# ---------------------------------------------------------------------------------------
# section-4-gradient-growth: symbolic, empirical (both networks), printed, control.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(GROWTH.id, kind="symbolic")
def test_growth_two_layer_closed_form():
    """Two-layer model, an aligned neuron (a = x_+, k = ||x_+||): (p, v)(t) = alpha e^{kt} (1, 1) + beta e^{-kt} (1, -1)
    solves the flow, and the gradient norm ||(v a, <w, a>)|| = k ||(v, p)|| grows like sqrt(2) k alpha e^{kt}; under
    the logistic loss the per-sample factor sigma(-u) <= e^{-u} decays instead (sympy)."""
    t, k, alpha, beta = sp.symbols("t k alpha beta", positive=True)
    p = alpha * sp.exp(k * t) + beta * sp.exp(-k * t)
    v = alpha * sp.exp(k * t) - beta * sp.exp(-k * t)
    assert_sympy_zero(sp.diff(p, t) - k * v, "dp/dt - k v")
    assert_sympy_zero(sp.diff(v, t) - k * p, "dv/dt - k p")
    grad = k * sp.sqrt(p**2 + v**2)
    assert sp.limit(grad * sp.exp(-k * t), t, sp.oo) == sp.sqrt(2) * k * alpha
    u = sp.symbols("u", positive=True)
    assert sp.limit(1 / (1 + sp.exp(u)) * sp.exp(u), u, sp.oo) == 1  # sigma(-u) ~ e^{-u}


@pytest.mark.claim(GROWTH.id, kind="empirical", form="corrected")
def test_growth_corrected_both_networks(record_property):
    """Seed 0: with batch normalisation the linear loss's gradient grows >= 10 times more than the logistic loss's and
    stays finite; without it (standard init) the linear run overflows while the logistic run stays finite."""
    for name, inst in (("bn", PAPER_NETWORK), ("no_bn", WITHOUT_BN)):
        result = evaluate_growth_corrected(inst)
        for key, value in result.figures.items():
            record_property(f"fig:{name}_{key}", value)
        assert result.holds, f"{name}: {result.figures}"


@pytest.mark.claim(GROWTH.id, kind="empirical", form="printed")
def test_growth_printed_fails_with_batch_norm(record_property):
    """The paper's network (batch normalisation, near-zero init): no instability within the run."""
    record_counterexample(record_property, PAPER_NETWORK)
    result = evaluate_growth_printed(PAPER_NETWORK)
    assert result.holds, f"no instability with batch normalisation: {result.figures}"


@pytest.mark.negative_control(GROWTH.id)
def test_growth_negative_control():
    """Broken variant: instability expected with batch normalisation as well; rejected on the paper's network, which the
    corrected form accepts."""
    assert evaluate_growth_corrected(PAPER_NETWORK).holds
    rejects(evaluate_growth_corrected, PAPER_NETWORK, instability_with_bn=True)


# ---------------------------------------------------------------------------------------
# section-5-2-batch-norm-balance
# ---------------------------------------------------------------------------------------
def evaluate_balance(ratios) -> Evaluation:
    """'Maintains the balance': every finite ratio ||x_+|| / ||x_-|| along the run lies in [1/BAND, BAND]."""
    r = np.asarray(ratios, dtype=np.float64)
    r = r[np.isfinite(r)]
    worst = float(np.max(np.abs(np.log(r)))) if r.size else math.inf
    return Evaluation(holds=bool(r.size > 0 and worst <= math.log(BAND)),
                      figures={"max_abs_log_ratio": worst, "ratio_first": float(r[0]) if r.size else math.nan,
                               "ratio_last": float(r[-1]) if r.size else math.nan})


def two_layer_ratio(norm_plus: float, norm_minus: float, times) -> np.ndarray:
    """s_+(t)/s_-(t) of two aligned groups of the two-layer model without batch normalisation (Section 5.2,
    e^{||x_+-|| t}), equal at t = 0."""
    return np.exp((norm_plus - norm_minus) * np.asarray(times, dtype=np.float64))


BALANCE = register(Claim(
    id="section-5-2-batch-norm-balance",
    paper_ref="Section 5.2",
    statement="Batch normalization maintains the balance between ||x_+|| and ||x_-||.",
    quote=r"batch normalization maintains the balance between  $\|\mathbf{x}_+\|$  and  $\|\mathbf{x}_-\|$",
    reading="x_+- are the class sums of the last hidden layer's features (we compare class means, which removes the "
            "class counts 174/178); 'maintains the balance' = the ratio stays within a factor 2 of 1 at every step of "
            "training with the linear loss (B.2 network, batch normalisation on, no weight normalisation), while the same "
            "network without batch normalisation leaves that band (|log ratio| reaches ~40 on the digits pair before "
            "overflow): the band is loose (the ratio is 1.24 at step 0), the contrast is not.",
    expected_verdict="verified",
))


@pytest.mark.claim(BALANCE.id, kind="symbolic")
def test_balance_pre_activation_sums():
    """Batch normalisation subtracts the batch mean, so the normalised pre-activations' class sums are exactly
    opposite, n_+ mu_+ = -n_- mu_- (sympy, three samples per class, one unit)."""
    zs = sp.symbols("z1:7", real=True)
    mean = sum(zs) / 6
    sd = sp.Symbol("sigma", positive=True)
    normed = [(z - mean) / sd for z in zs]
    assert_sympy_zero(sum(normed[:3]) + sum(normed[3:]), "sum over positives + sum over negatives")


@pytest.mark.claim(BALANCE.id, kind="empirical")
def test_balance_with_batch_norm(record_property):
    """Seeds 0 and 1, linear loss, batch normalisation: ||mu_+|| / ||mu_-|| of the last hidden layer stays within
    [1/2, 2] at every step."""
    for seed in (0, 1):
        result = evaluate_balance(_run("linear", True, 1e-3, seed).ratio)
        for key, value in result.figures.items():
            record_property(f"fig:seed{seed}_{key}", value)
        assert result.holds, f"seed {seed}: {result.figures}"


@pytest.mark.claim(BALANCE.id, kind="numerical")
def test_balance_absent_in_two_layer_model(record_property):
    """Without batch normalisation (two-layer model, Section 5.2) the ratio of two aligned groups is
    e^{(||x_+|| - ||x_-||) t}: with ||x_+|| = 1.2 ||x_-|| it leaves [1/2, 2] once t > log 2 / (0.2 ||x_-||); the
    same evaluation accepts the batch-normalised network."""
    ratios = two_layer_ratio(1.2, 1.0, np.linspace(0.0, 10.0, 101))
    result = evaluate_balance(ratios)
    record_property("fig:two_layer_max_abs_log_ratio", result.figures["max_abs_log_ratio"])
    assert not result.holds
    # 1e-12: exp and log of numbers of size <= 2, against the exact exponent 0.2 * 10.
    assert abs(result.figures["max_abs_log_ratio"] - 2.0) < 1e-12


@pytest.mark.claim(BALANCE.id, kind="empirical")
def test_balance_lost_without_batch_norm(record_property):
    """The contrast that makes batch normalisation the cause: the same network without it, at an initialisation
    where it trains (0.1; at 1e-3 it sits at the saddle at 0 and nothing moves), loses the balance: |log ratio|
    leaves log 2 long before its weights overflow (seeds 0 and 1)."""
    for seed in (0, 1):
        result = evaluate_balance(_run("linear", False, WITHOUT_BN_TRAINING_INIT, seed).ratio)
        record_property(f"fig:without_bn_seed{seed}_max_abs_log_ratio", result.figures["max_abs_log_ratio"])
        assert not result.holds, f"seed {seed}: {result.figures}"


@pytest.mark.negative_control(BALANCE.id)
def test_balance_negative_control():
    """Broken variant: batch normalisation switched off in the network the evaluation judges (the run without it,
    and the two-layer model's e^{(||x_+|| - ||x_-||) t}): both rejected; the batch-normalised run accepted."""
    assert evaluate_balance(_run("linear", True, 1e-3, 0).ratio).holds
    rejects(evaluate_balance, _run("linear", False, WITHOUT_BN_TRAINING_INIT, 0).ratio)
    rejects(evaluate_balance, two_layer_ratio(1.2, 1.0, np.linspace(0.0, 10.0, 101)))
