"""The paper's own words: every claim quotes the paper verbatim, every finding is judged.

The paper is not part of the repository. Point ``CLAIMS_PAPER`` at a copy (the Markdown file,
or a folder whose ``.md`` files hold it, with the related work's excerpts as ``.txt`` files) and every claim's ``quote`` is searched in it,
whitespace normalised, LaTeX kept; without it the quote test is skipped with that reason.
CI sets ``CLAIMS_PAPER`` to its copy of the paper.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claims.framework.cli import load_claim_modules
from claims.paper import PAPER

PAPER_ENV = "CLAIMS_PAPER"


def normalised(text: str) -> str:
    return " ".join(text.split())


def paper_text() -> str | None:
    given = os.environ.get(PAPER_ENV)
    if not given:
        return None
    path = Path(given)
    # The paper's Markdown, and beside it the related work's excerpts that "beyond" claims quote.
    files = sorted([*path.glob("*.md"), *path.glob("*.txt")]) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        pytest.fail(f"{PAPER_ENV}={given!r} names no Markdown file of the paper")
    return normalised("\n".join(f.read_text() for f in files))


CLAIMS = load_claim_modules(PAPER)


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_quote_is_verbatim(claim):
    text = paper_text()
    if text is None:
        pytest.skip(f"set {PAPER_ENV} to a copy of the paper (file or folder) to check the quotes")
    if not claim.quote:
        # Only a conjecture of this suite (report part "beyond") may quote nothing.
        assert claim.part == "beyond" and "Conjecture" in claim.statement, f"{claim.id} has no quote"
        return
    assert normalised(claim.quote) in text, f"{claim.id}: quote not found verbatim: {claim.quote[:120]!r}"


def test_every_finding_is_judged():
    flagged = {c.id for c in CLAIMS if c.expected_verdict in ("erratum", "refuted", "gap")}
    assert flagged <= set(PAPER.findings)
    # A finding for a claim not flagged under this profile: one flagged under another profile.
    for claim_id in set(PAPER.findings) - flagged:
        assert claim_id.startswith("section-4-"), claim_id


def test_every_root_cause_is_used_and_ids_exist():
    ids = {c.id for c in CLAIMS}
    used = {f.root_cause for f in PAPER.findings.values()}
    assert used == {c.id for c in PAPER.root_causes}
    assert set(PAPER.claim_order) == ids and len(PAPER.claim_order) == len(ids)
    for claim_id, deps in PAPER.depends_on.items():
        assert claim_id in ids and set(deps) <= ids, claim_id
    for result in PAPER.main_results:
        assert set(result.claims) <= ids, result.name
