"""The first page is split: its first INLINE entries are checked by the replay itself while the
workers start, the rest of it by the workers (submitted from a thread). Whatever is tampered
with in either part, or across the split, the pipelined audit names what the sequential one
names, on both backends."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.service import audit as audit_service
from ledger.service import audit_pool
from ledger.service.audit import TrustedKeys
from ledger.store.engine import Database
from tests.store.test_audit_pipeline import (
    Ledger,
    _flip,
    _forge,
    _outcome,
    _sql,
    counting_prechecks,
    ingested,
)

# Pages of 64 entries in chunks of 16; the replay checks entries 0-23 itself, the workers
# 24-39, 40-55 and 56-63 of the first page, then every later page.
PAGE, CHUNK, INLINE = 64, 16, 24


@pytest.fixture
def ledger(tmp_path: Path, database_url: str) -> Iterator[Ledger]:
    yield from ingested(tmp_path, database_url, extracts=60, pairs=10)


def _column(url: str, index: int) -> None:
    _sql(url, "UPDATE entries SET event_id = 'other' WHERE idx = :i", i=index)


SCENARIOS: dict[str, tuple[Callable[[str], None], str]] = {
    "clean": (lambda url: None, "ok "),
    "a forged signature in the first page's workers' part": (
        lambda url: _forge(url, 30),
        "entry 30: step (4)",
    ),
    "two forged, the later one in the replay's part": (
        lambda url: (_forge(url, 50), _forge(url, 20)),
        "entry 20: step (4)",
    ),
    "a forged signature after a broken envelope, both in the workers' part": (
        lambda url: (_forge(url, 60), _flip(url, 41)),
        "entry 41: step (",
    ),
    "a derived column, then a forged signature in the next page": (
        lambda url: (_column(url, 45), _forge(url, 70)),
        "entry 45: step (3)",
    ),
    "a forged signature across the split, then a derived column": (
        lambda url: (_forge(url, 24), _column(url, 23 + CHUNK)),
        "entry 24: step (4)",
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_first_page_split_names_the_same_first_failure(
    ledger: tuple[Database, TrustedKeys, str], monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    db, trusted, url = ledger
    monkeypatch.setattr(audit_service, "PAGE", PAGE)
    monkeypatch.setattr(audit_pool, "CHUNK", CHUNK)
    monkeypatch.setattr(audit_pool, "INLINE", INLINE)
    handed_out = counting_prechecks(monkeypatch)
    tamper, expected = SCENARIOS[scenario]
    tamper(url)
    sequential = _outcome(db, trusted, jobs=0)
    assert sequential.startswith(expected), sequential
    assert _outcome(db, trusted, jobs=2) == sequential
    if scenario == "clean":
        entries = int(sequential.split()[1])
        assert sum(handed_out) == entries - INLINE  # all but the replay's own part
