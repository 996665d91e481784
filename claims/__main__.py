"""Command line: ``python -m claims {list,report,check,probe}``.

User mistakes never show a traceback: one line on stderr and exit status 2.

References:
    DESIGN.md, "Command line".
"""

from __future__ import annotations

import sys

from claims.framework.cli import main

if __name__ == "__main__":
    sys.exit(main())
