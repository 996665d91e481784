"""Where the claim report and saved counterexamples live.

The plugin points :data:`REPORT_DIR` at ``<rootdir>/reports`` (or ``--claims-report-dir``)
when a test session starts; outside pytest it is the project's own ``reports/``.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = PROJECT_ROOT / "reports"


def set_report_dir(path: Path) -> None:
    """Point the report (and counterexample) directory elsewhere."""
    global REPORT_DIR
    REPORT_DIR = Path(path)


def report_dir() -> Path:
    """The current report directory."""
    return REPORT_DIR


def counterexample_path(claim_id: str) -> Path:
    """Absolute path of a claim's saved counterexample."""
    return REPORT_DIR / "counterexamples" / f"{claim_id}.npz"
