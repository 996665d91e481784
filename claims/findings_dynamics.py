"""Root causes, findings, main results, proof edges and order of the claims on the paper's
dynamics beyond gradient flow: gradient descent with a finite step (the Abstract's "GD") and
the mechanisms Sections 4 and 5.2 invoke (gradient growth, batch-norm balance).

Merged into :mod:`claims.findings` (same structure, same rules)."""

from __future__ import annotations

from claims.framework.claim import Finding, RootCause
from claims.framework.paper import MainResult

ROOT_CAUSES: tuple[RootCause, ...] = ()
FINDINGS: dict[str, Finding] = {}
MAIN_RESULTS: tuple[MainResult, ...] = ()
DEPENDS_ON: dict[str, tuple[str, ...]] = {}
CLAIM_ORDER: tuple[str, ...] = ()
