"""Root causes, findings, main results, proof edges and order of the "Beyond the paper"
claims on Han et al. 2022's MSE decomposition and on the multi-class linear losses that
Section 6 names as future work.

Merged into :mod:`claims.findings` (same structure, same rules)."""

from __future__ import annotations

from claims.framework.claim import Finding, RootCause
from claims.framework.paper import MainResult

ROOT_CAUSES: tuple[RootCause, ...] = ()
FINDINGS: dict[str, Finding] = {}
MAIN_RESULTS: tuple[MainResult, ...] = ()
DEPENDS_ON: dict[str, tuple[str, ...]] = {}
CLAIM_ORDER: tuple[str, ...] = ()
