"""The verification memo of provenance (ledger/verify/lot.py) never hides tampering.

Each test reads a lot's provenance once, so that its entries' parses, signatures and
inclusion checks are memoised in this process, then changes one thing in the database and
reads again: the change must be reported, on the JSON route and on the customs page.
"""

from typing import Any

import pytest
from sqlalchemy import create_engine, text

from ledger.lots.tolerances import Tolerances
from ledger.service.provenance import MEMOS
from ledger.tlog import keys
from ledger.tlog.encoding import b64decode
from ledger.verify import lot as verify_lot_module
from ledger.verify.bundle import verify_bundle
from ledger.verify.bundle_format import parse_bundle
from tests.api.conftest import Ledger
from tests.support import Party, extract, receive, ship

LOT = "ORE-MEMO"
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


# Each test starts and ends with empty verification memos (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("fresh_memos")


def _chain(ledger: Ledger, cast: dict[str, Party]) -> list[int]:
    """Extract, ship, receive: three entries of one lot linked by prev; their indices."""
    mine, plant = cast["mine"], cast["plant"]
    lots = [(LOT, 1_000_000)]
    return [
        ledger.post(mine, extract(mine, LOT, 1_000_000))["index"],
        ledger.post(mine, ship(mine, ledger.heads, plant.id, lots))["index"],
        ledger.post(plant, receive(plant, ledger.heads, mine.id, lots))["index"],
    ]


def _read(ledger: Ledger, auditor: Party) -> dict[str, Any]:
    response = ledger.client.get(f"/v1/lots/{LOT}/provenance", headers=ledger.auth(auditor))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _first_read(ledger: Ledger, cast: dict[str, Party]) -> dict[str, Any]:
    body = _read(ledger, cast["auditor"])
    assert body["verdict"] == "ok", body
    assert all(step["verified"] and not step["problems"] for step in body["steps"])
    assert len(MEMOS.entries) >= 3 and len(MEMOS.inclusions) >= 3
    return body


def _problems(body: dict[str, Any]) -> dict[int, list[str]]:
    return {step["index"]: step["problems"] for step in body["steps"] if not step["verified"]}


def _execute(database_url: str, sql: str, **params: Any) -> Any:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            return connection.execute(text(sql), params)
    finally:
        engine.dispose()


def _stored(database_url: str, index: int) -> bytes:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT envelope FROM entries WHERE idx = :i"), {"i": index}
            ).scalar_one()
    finally:
        engine.dispose()
    return bytes(found)


def _store(database_url: str, index: int, envelope: bytes) -> None:
    sql = "UPDATE entries SET envelope = :e WHERE idx = :i"
    assert _execute(database_url, sql, e=envelope, i=index).rowcount == 1


def _one_character_of(stored: bytes, field: str) -> bytes:
    """The stored envelope with one base64 character of `field` changed: still canonical
    JSON, still valid base64 of the same length, other bytes."""
    start = stored.index(f'"{field}":"'.encode()) + len(field) + 4 + 10
    old = chr(stored[start])
    new = BASE64[(BASE64.index(old) + 1) % 64]
    return stored[:start] + new.encode() + stored[start + 1 :]


@pytest.mark.parametrize(
    ("field", "step"),
    [("sig", "(4)"), ("payload", "(1)")],
)
def test_an_envelope_changed_after_a_first_read_is_reported(
    ledger: Ledger, cast: dict[str, Party], database_url: str, field: str, step: str
) -> None:
    indices = _chain(ledger, cast)
    _first_read(ledger, cast)
    target = indices[1]
    stored = _stored(database_url, target)
    assert MEMOS.entries.parsed(stored) is not None  # the memo holds it: the test bites
    _store(database_url, target, _one_character_of(stored, field))

    problems = _problems(_read(ledger, cast["auditor"]))
    assert problems[target][0].startswith(step), problems
    # An envelope that no longer parses breaks the next entry's link to it, nothing else.
    others = [
        problem for index, listed in problems.items() if index != target for problem in listed
    ]
    assert all(problem.startswith("(12)") for problem in others), problems
    if step == "(4)":  # the bytes changed, so the leaf is not the one the checkpoint signs
        assert any(problem.startswith("(11)") for problem in problems[target])
    assert _read(ledger, cast["auditor"])["verdict"] == "integrity_failure"  # and again
    page = ledger.client.get(f"/lots/{LOT}").text
    assert "Record broken — do not rely on it" in page

    _store(database_url, target, stored)  # put back: intact again
    assert _read(ledger, cast["auditor"])["verdict"] == "ok"


def test_a_key_changed_after_a_first_read_is_reported(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    indices = _chain(ledger, cast)
    _first_read(ledger, cast)
    other = keys.raw_public_key(keys.generate_private_key())
    sql = "UPDATE participant_keys SET public_key = :k WHERE keyid = :id"
    assert _execute(database_url, sql, k=other, id=cast["mine"].keyid).rowcount == 1

    body = _read(ledger, cast["auditor"])
    assert body["verdict"] == "integrity_failure"
    problems = _problems(body)
    assert list(problems) == indices[:2], problems  # the mine's two entries
    assert all(listed[0].startswith("(4)") for listed in problems.values()), problems


def test_a_key_revoked_before_the_entries_after_a_first_read_is_reported(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    indices = _chain(ledger, cast)
    _first_read(ledger, cast)
    sql = "UPDATE participant_keys SET revoked_at = :at WHERE keyid = :id"
    assert _execute(database_url, sql, at=indices[0], id=cast["plant"].keyid).rowcount == 1

    problems = _problems(_read(ledger, cast["auditor"]))
    assert list(problems) == [indices[2]], problems  # the plant's receipt
    assert problems[indices[2]][0].startswith("(4) key"), problems


def test_a_tree_node_changed_after_a_first_read_is_reported(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    indices = _chain(ledger, cast)
    _first_read(ledger, cast)
    target = indices[0]
    sibling = target ^ 1  # the first hash of the entry's inclusion proof
    assert sibling < ledger.size()
    sql = "UPDATE tree_nodes SET hash = :h WHERE level = 0 AND idx = :i"
    assert _execute(database_url, sql, h=bytes(32), i=sibling).rowcount == 1

    problems = _problems(_read(ledger, cast["auditor"]))
    assert target in problems, problems
    assert all(listed == [problems[target][0]] for listed in problems.values())
    assert problems[target][0].startswith("(11) inclusion"), problems


def test_a_prev_link_broken_after_a_first_read_is_reported(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    """The shipment dropped from the lot's history: the receipt's bytes are memoised, its
    prev link is judged again, against the history as it now reads."""
    indices = _chain(ledger, cast)
    _first_read(ledger, cast)
    sql = "DELETE FROM lot_events WHERE idx = :i AND lot = :lot"
    assert _execute(database_url, sql, i=indices[1], lot=LOT).rowcount == 1

    problems = _problems(_read(ledger, cast["auditor"]))
    assert indices[2] in problems and problems[indices[2]][-1].startswith("(12)"), problems


def test_a_signature_libsodium_refuses_is_judged_by_pyca(
    ledger: Ledger, cast: dict[str, Party], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What libsodium refuses is re-checked with pyca/cryptography, whose verdict stands."""
    _chain(ledger, cast)
    refused: list[int] = []

    def refuse_all(items: list[tuple[int, bytes, bytes, bytes]]) -> list[int]:
        refused.extend(tag for tag, _, _, _ in items)
        return [tag for tag, _, _, _ in items]

    monkeypatch.setattr(verify_lot_module, "failed_signatures", refuse_all)
    body = _first_read(ledger, cast)
    assert sorted(refused) == sorted(step["index"] for step in body["steps"])
    refused.clear()
    assert _read(ledger, cast["auditor"])["verdict"] == "ok"
    assert refused == []  # verified once (by pyca) with these bytes and keys: memoised


def test_an_entry_missing_from_the_log_is_reported_not_an_error(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    indices = _chain(ledger, cast)
    _first_read(ledger, cast)
    assert _execute(database_url, "DELETE FROM entries WHERE idx = :i", i=indices[1]).rowcount

    body = _read(ledger, cast["auditor"])
    assert body["verdict"] != "ok"
    problems = _problems(body)
    assert problems[indices[1]] == [
        f"(1) entry {indices[1]} is in the lots' history but not in the log"
    ], problems


def test_a_history_row_beyond_the_checkpoint_is_reported_not_an_error(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    _chain(ledger, cast)
    _first_read(ledger, cast)
    beyond = ledger.size() + 5
    sql = "INSERT INTO lot_events (lot, idx) VALUES (:lot, :i)"
    assert _execute(database_url, sql, lot=LOT, i=beyond).rowcount == 1

    body = _read(ledger, cast["auditor"])
    assert body["verdict"] != "ok"
    assert beyond in _problems(body), body["steps"]
    page = ledger.client.get(f"/lots/{LOT}", headers=ledger.auth(cast["auditor"]))
    assert page.status_code == 200


def test_a_bundle_with_an_entry_missing_from_the_log_fails_verification(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    indices = _chain(ledger, cast)
    assert _execute(database_url, "DELETE FROM entries WHERE idx = :i", i=indices[1]).rowcount
    response = ledger.client.get(f"/v1/lots/{LOT}/bundle", headers=ledger.auth(cast["auditor"]))
    assert response.status_code == 200, response.text
    bundle = response.json()
    report = verify_bundle(
        parse_bundle(bundle), bundle["log_key"], b64decode(bundle["operator_key"]), Tolerances()
    )
    assert not report.ok
    assert any(f"entry {indices[2]}" in failure for failure in report.failures), report
