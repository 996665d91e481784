"""Hypothesis settings profiles, registered in one place and chosen by an environment variable.

``CLAIMS_PROFILE`` picks the profile (default ``ci``):

- ``dev``: few random examples, for quick local iteration.
- ``ci``: derandomized and without an example database, so two runs give identical
  verdicts; what CI and the README use. Hypothesis itself loads a built-in profile
  named ``ci`` when the ``CI`` variable is set; registering ours under the same name
  replaces it, and :func:`load_profile` loads ours explicitly.
- ``thorough``: many random examples, for a referee with time to spare.

None keeps an example database: with one, a failing example of one ``dev`` run is replayed in
every later run, so a single flake poisons the next ones (a run is reproduced with
``--hypothesis-seed`` instead). Every profile is registered from an explicit parent (Hypothesis's
own ``default``): when the ``CI`` variable is set Hypothesis loads its built-in ``ci`` profile
(derandomized) at import, and a profile registered without a parent would inherit it, so ``dev``
and ``thorough`` would silently stop being random.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_ENV = "CLAIMS_PROFILE"
DEFAULT_PROFILE = "ci"
PROFILES = ("dev", "ci", "thorough")


class UnknownProfileError(ValueError):
    """The profile named in CLAIMS_PROFILE is not one of ours."""


def register_profiles() -> None:
    """Register the three profiles (idempotent)."""
    base = settings.get_profile("default")
    common = dict(parent=base, deadline=None, print_blob=True, database=None)
    settings.register_profile("dev", max_examples=15, derandomize=False, **common)
    settings.register_profile(
        "ci",
        max_examples=40,
        derandomize=True,
        # Our strategies are constructive and cheap, but a shared CI machine can be slow.
        suppress_health_check=[HealthCheck.too_slow],
        **common,
    )
    settings.register_profile("thorough", max_examples=500, derandomize=False, **common)


def selected_profile() -> str:
    """The profile named by CLAIMS_PROFILE, or the default."""
    name = os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)
    if name not in PROFILES:
        raise UnknownProfileError(
            f"{PROFILE_ENV} must be one of {', '.join(PROFILES)}; got {name!r}"
        )
    return name


def profile_for_claims() -> str:
    """The selected profile for a claim module deciding its budgets at import time; the default when
    CLAIMS_PROFILE is bad (pytest and the command line report that mistake themselves, once)."""
    try:
        return selected_profile()
    except UnknownProfileError:
        return DEFAULT_PROFILE


def load_profile() -> str:
    """Register and load the selected profile; return its name."""
    register_profiles()
    name = selected_profile()
    settings.load_profile(name)
    return name
