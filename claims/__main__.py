"""Command line: ``python -m claims {list,report,check,probe}`` for this suite's paper.

User mistakes never show a traceback: one line on stderr and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from claims.framework.cli import main
from claims.paper import PAPER

if __name__ == "__main__":
    sys.exit(main(paper=PAPER, root=Path(__file__).resolve().parents[1]))
