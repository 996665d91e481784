"""Shared fixtures of the unit tests.

The command line's ``--report-dir`` points :data:`claims.framework.paths.REPORT_DIR` elsewhere
for the rest of the process. A test that calls the CLI in-process would leave it there, and the
claims plugin would then look for the session's saved counterexamples in that test's temporary
folder. Every test therefore gets the report directory back as it found it.
"""

from __future__ import annotations

import pytest

from claims.framework import paths


@pytest.fixture(autouse=True)
def _restore_report_dir():
    before = paths.REPORT_DIR
    yield
    paths.REPORT_DIR = before
