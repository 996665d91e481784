"""Hypothesis settings profiles, registered in one place and chosen by an environment variable.

``CLAIMS_PROFILE`` picks the profile (default ``ci``):

- ``dev``: few random examples, for quick local iteration.
- ``ci``: derandomized and without an example database, so two runs give identical
  verdicts; what CI and the README use. Hypothesis itself loads a built-in profile
  named ``ci`` when the ``CI`` variable is set; registering ours under the same name
  replaces it, and :func:`load_profile` loads ours explicitly.
- ``thorough``: many random examples, for a referee with time to spare.
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
    common = dict(deadline=None, print_blob=True)
    settings.register_profile("dev", max_examples=15, **common)
    settings.register_profile(
        "ci",
        max_examples=40,
        derandomize=True,
        database=None,
        # Our strategies are constructive and cheap, but a shared CI machine can be slow.
        suppress_health_check=[HealthCheck.too_slow],
        **common,
    )
    settings.register_profile("thorough", max_examples=500, **common)


def selected_profile() -> str:
    """The profile named by CLAIMS_PROFILE, or the default."""
    name = os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)
    if name not in PROFILES:
        raise UnknownProfileError(
            f"{PROFILE_ENV} must be one of {', '.join(PROFILES)}; got {name!r}"
        )
    return name


def load_profile() -> str:
    """Register and load the selected profile; return its name."""
    register_profiles()
    name = selected_profile()
    settings.load_profile(name)
    return name
