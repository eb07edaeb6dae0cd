"""The pipelined audit (workers check entries ahead of the replay) names the same first failure
as the sequential one, whatever is tampered with and wherever it falls: in the page the replay
checks itself while the workers start, in a chunk the workers have already judged, in a later
page, or where the workers could not be given the right key."""

import json
import pickle
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import create_engine, text

from ledger.demo import generate
from ledger.home import Home, init_home
from ledger.lots.events import EVENT_TYPES, InvalidEvent, parse_event
from ledger.service import audit as audit_service
from ledger.service import audit_parallel, audit_pool
from ledger.service.audit import TrustedKeys, audit
from ledger.service.ingest import ingest
from ledger.service.scenario_run import registrations
from ledger.store.engine import Database
from ledger.tlog import keys, merkle
from ledger.tlog.encoding import b64decode, b64encode, canonical, sha256
from ledger.verify.log import LogAuditor
from ledger.verify.signatures import failed_signatures
from ledger.verify.stored import (
    REDO,
    UNTRIED,
    VERIFIED,
    AuditFailure,
    Row,
    StoredEntry,
    precheck,
    read_event,
)
from tests.support import Party, event, extract, register, transform

ORIGIN = "pipeline.ree-ledger.local/log"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
# Small pages and chunks, so that a ledger of 242 entries spans four pages of four chunks:
# the first page is checked by the replay itself, the other three by the workers.
PAGE, CHUNK = 64, 16


def _key_add(party: Party, new: Party) -> dict[str, Any]:
    key = {"keyid": new.keyid, "public_key": b64encode(new.public_key)}
    return event("operator", "participant.key_add", participant=party.id, key=key)


def _envelopes(operator: Party, extracts: int = 100, pairs: int = 20) -> list[list[dict[str, Any]]]:
    """The batches of the ledger: 0 registers the mine; 1–100 extracts signed with its first
    key; 101 adds its second key; 102–201 extracts signed with that one; 202–241 an extract
    and the transform of its lot, twenty times (each transform depends on the entry before)."""
    mine, second = Party("pipeline-mine"), Party("pipeline-mine")
    batches = [[operator.envelope(register(operator, mine, ["mine", "processor"]))]]
    batches.append([mine.envelope(extract(mine, f"ORE-A-{n}")) for n in range(extracts)])
    batches.append([operator.envelope(_key_add(mine, second))])
    batches.append([second.envelope(extract(mine, f"ORE-B-{n}")) for n in range(extracts)])
    made = []
    for n in range(pairs):
        mined = extract(mine, f"ORE-C-{n}")
        heads = {f"ORE-C-{n}": sha256(canonical(mined)).hex()}
        transformed = transform(
            mine, heads, [(f"ORE-C-{n}", 600_000)], [(f"CON-C-{n}", "concentrate", 80_000)]
        )
        made += [mine.envelope(mined), mine.envelope(transformed)]
    batches.append(made)
    return batches


Ledger = tuple[Database, TrustedKeys, str]  # the database, the keys to trust, its URL


def ingested(tmp_path: Path, database_url: str, **sizes: int) -> Iterator[Ledger]:
    """A ledger holding `_envelopes(operator, **sizes)`, for a fixture to yield from."""
    identity = init_home(tmp_path / "home", database_url, ORIGIN)
    operator = Party("operator", Home(tmp_path / "home").operator_key())
    db = Database(database_url)
    for batch in _envelopes(operator, **sizes):
        ingest(db, identity, batch, NOW)
    try:
        yield db, TrustedKeys(ORIGIN, identity.log_vkey, identity.operator_public_key), database_url
    finally:
        db.dispose()


def counting_prechecks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the chunks the audit hands to its workers, as it hands them out (ahead
    of the pipelined replay, or in the first pass of the replay in parts)."""
    handed_out: list[int] = []

    def counted(
        pool: Any, pages: Iterator[list[Row]], *task: Any
    ) -> Iterator[list[audit_pool.Chunk]]:
        for chunks in audit_pool.prechecked_pages(pool, pages, *task):
            handed_out.extend(len(chunk.rows) for chunk in chunks if chunk.found is not None)
            yield chunks

    monkeypatch.setattr(audit_service, "prechecked_pages", counted)
    monkeypatch.setattr(audit_parallel, "prechecked_pages", counted)
    return handed_out


@pytest.fixture
def ledger(tmp_path: Path, database_url: str) -> Iterator[Ledger]:
    yield from ingested(tmp_path, database_url)


def _sql(url: str, statement: str, **params: object) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result.fetchall()) if result.returns_rows else []
    finally:
        engine.dispose()


def _envelope(url: str, index: int) -> bytes:
    [(envelope,)] = _sql(url, "SELECT envelope FROM entries WHERE idx = :i", i=index)
    return bytes(envelope)


def _forge(url: str, index: int) -> None:
    """A well-formed signature that does not verify, the leaf_hash column to match: only
    step (4) can tell."""
    envelope = json.loads(_envelope(url, index))
    envelope["signatures"][0]["sig"] = b64encode(bytes(64))
    forged = canonical(envelope)
    statement = "UPDATE entries SET envelope = :e, leaf_hash = :h WHERE idx = :i"
    _sql(url, statement, e=forged, h=merkle.leaf_hash(forged), i=index)


def _flip(url: str, index: int) -> None:
    """One bit of the stored envelope flipped, inside the payload: step (1), (2) or (3)."""
    tampered = bytearray(_envelope(url, index))
    tampered[40] ^= 0x04
    _sql(url, "UPDATE entries SET envelope = :e WHERE idx = :i", e=bytes(tampered), i=index)


def _second_keyid(url: str) -> str:
    [(keyid,)] = _sql(url, "SELECT keyid FROM entries WHERE idx = 150")
    return str(keyid)


def _clean(url: str) -> None:
    pass


def _two_forged(url: str) -> None:
    _forge(url, 150)
    _forge(url, 100)


def _forged_then_broken(url: str) -> None:
    _forge(url, 70)
    _flip(url, 120)


def _broken_then_forged(url: str) -> None:
    _flip(url, 70)
    _forge(url, 75)


def _forged_then_column(url: str) -> None:
    _forge(url, 130)
    _sql(url, "UPDATE entries SET event_id = 'other' WHERE idx = 200")


def _forged_inline_and_prechecked(url: str) -> None:
    _forge(url, 90)
    _forge(url, 10)


def _unknown_key_forged(url: str) -> None:
    _sql(url, "DELETE FROM participant_keys WHERE keyid = :k", k=_second_keyid(url))
    _forge(url, 150)


def _wrong_key_row(url: str) -> None:
    statement = "UPDATE participant_keys SET public_key = :p WHERE keyid = :k"
    _sql(url, statement, p=bytes(32), k=_second_keyid(url))


def _deleted(url: str) -> None:
    _sql(url, "DELETE FROM entries WHERE idx = 140")


def _swapped(url: str) -> None:
    _sql(url, "UPDATE entries SET idx = -1 WHERE idx = 202")
    _sql(url, "UPDATE entries SET idx = 202 WHERE idx = 203")
    _sql(url, "UPDATE entries SET idx = 203 WHERE idx = -1")


# The tampering and the start of the failure the sequential audit names.
SCENARIOS: dict[str, tuple[Callable[[str], None], str]] = {
    "clean": (_clean, "ok 242 "),
    "two forged signatures in the workers' pages": (_two_forged, "entry 100: step (4)"),
    "a forged signature, a broken envelope in a later chunk": (
        _forged_then_broken,
        "entry 70: step (4)",
    ),
    "a broken envelope, a forged signature in its chunk": (_broken_then_forged, "entry 70: step ("),
    "a forged signature, a derived column in a later page": (
        _forged_then_column,
        "entry 130: step (4)",
    ),
    "a forged signature in the replay's own page, one in the workers'": (
        _forged_inline_and_prechecked,
        "entry 10: step (4)",
    ),
    "a key missing from participant_keys, a signature by it forged": (
        _unknown_key_forged,
        "entry 150: step (4)",
    ),
    "a key row naming another public key": (_wrong_key_row, "step (10): stored key"),
    "a deleted entry": (_deleted, "entry 140: step (6)"),
    "an extract and the transform of its lot swapped": (_swapped, "entry 202: step (5)"),
}


def _outcome(db: Database, trusted: TrustedKeys, jobs: int) -> str:
    try:
        report = audit(db, trusted, jobs=jobs)
    except AuditFailure as exc:
        return str(exc)
    return f"ok {report.entries} {report.checkpoints} {report.lots} {b64encode(report.root)}"


def replays_in_this_process(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker counts of the audits with their replay in this process (the audit's
    sequential replay, which decides whenever the replay in parts does not vouch)."""
    calls: list[int] = []
    sequential = audit_service._audit

    def counted(db: Database, trusted: TrustedKeys, *args: Any) -> audit_service.AuditReport:
        calls.append(args[1])
        return sequential(db, trusted, *args)

    monkeypatch.setattr(audit_service, "_audit", counted)
    return calls


@pytest.mark.parametrize("replay", ["pipelined", "in parts"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_workers_name_the_same_first_failure_as_the_sequential_audit(
    ledger: tuple[Database, TrustedKeys, str],
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    replay: str,
) -> None:
    """With two workers, the replay is pipelined behind them, or runs in parts first (as
    it does from audit.PARTS workers), which hands every failure to the sequential replay."""
    db, trusted, url = ledger
    monkeypatch.setattr(audit_service, "PAGE", PAGE)
    monkeypatch.setattr(audit_pool, "CHUNK", CHUNK)
    monkeypatch.setattr(audit_service, "PARTS", 3 if replay == "pipelined" else 2)
    prechecked = counting_prechecks(monkeypatch)
    tamper, expected = SCENARIOS[scenario]
    tamper(url)
    sequential = _outcome(db, trusted, jobs=0)
    assert sequential.startswith(expected), sequential
    in_this_process = replays_in_this_process(monkeypatch)
    assert _outcome(db, trusted, jobs=2) == sequential
    if replay == "in parts":
        # The parts vouch for a clean log; a damaged one goes to the sequential replay.
        assert in_this_process == ([] if scenario == "clean" else [2])
    if scenario == "clean":
        assert sum(prechecked) == 242 - PAGE  # all but the first page went to the workers


# --- the same, in this process, against every kind of damage --------------------------------


def _rows(envelopes: list[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for index, envelope in enumerate(envelopes):
        stored = canonical(envelope)
        payload = b64decode(envelope["payload"])
        fields = json.loads(payload)
        keyid = envelope["signatures"][0]["keyid"]
        leaf = merkle.leaf_hash(stored)
        values = (sha256(payload).hex(), fields["id"], fields["type"], fields["actor"], keyid)
        rows.append((index, stored, leaf, *values))
    return rows


@pytest.fixture(scope="module")
def small() -> tuple[list[Row], bytes, str]:
    """28 rows (a registration, 10 extracts, a key added, 10 extracts with it, 3 transforms),
    the operator's public key and the log's verifier key."""
    operator = Party("operator")
    log_key = keys.generate_private_key()
    vkey = keys.verifier_key(ORIGIN, keys.raw_public_key(log_key))
    envelopes = [e for batch in _envelopes(operator, extracts=10, pairs=3) for e in batch]
    return _rows(envelopes), operator.public_key, vkey


def _sequential(rows: list[Row], operator_key: bytes, vkey: str) -> str:
    auditor = LogAuditor(ORIGIN, vkey, operator_key)
    try:
        for row in rows:
            auditor.entry(StoredEntry(*row))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return f"ok {b64encode(auditor.tree.root())}"


def _prechecked(
    rows: list[Row], operator_key: bytes, vkey: str, hints: dict[str, bytes], defer: bool
) -> str:
    """The replay as the service runs it with workers, the workers' part done here."""
    auditor = LogAuditor(ORIGIN, vkey, operator_key)
    auditor.key_hints.update(hints)
    auditor.defer_signatures = defer
    found = precheck(rows, auditor.key_hints)
    # A worker's failure crosses a process boundary: pickled and back.
    found = pickle.loads(pickle.dumps(found))
    try:
        for offset, row in enumerate(rows):
            verdict, event = found.verdicts[offset], found.events[offset]
            try:
                auditor.entry_prechecked(row, verdict, event, found.failures.get(offset))
            except AuditFailure:
                auditor.settle_signatures(failed_signatures(auditor.deferred), through=row[0])
                raise
        auditor.settle_signatures(failed_signatures(auditor.deferred))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return f"ok {b64encode(auditor.tree.root())}"


def _damaged(rows: list[Row], rng: random.Random) -> list[Row]:
    """The rows with one or two of them damaged: a bit of the envelope flipped, a signature
    forged (leaf_hash column to match), a derived column changed, or two rows swapped."""
    damaged = list(rows)
    for _ in range(rng.choice([1, 2])):
        index = rng.randrange(len(rows))
        row = damaged[index]
        kind = rng.choice(["bit", "signature", "column", "swap"])
        if kind == "bit":
            envelope = bytearray(row[1])
            envelope[rng.randrange(len(envelope))] ^= 1 << rng.randrange(8)
            damaged[index] = (row[0], bytes(envelope), *row[2:])
        elif kind == "signature":
            envelope = json.loads(row[1])
            envelope["signatures"][0]["sig"] = b64encode(rng.randbytes(64))
            forged = canonical(envelope)
            damaged[index] = (row[0], forged, merkle.leaf_hash(forged), *row[3:])
        elif kind == "column":
            column = rng.randrange(2, 8)
            value: Any = rng.randbytes(32) if column == 2 else "x" + str(row[column])
            changed: Any = (*row[:column], value, *row[column + 1 :])
            damaged[index] = changed
        elif index + 1 < len(rows):
            following = damaged[index + 1]
            damaged[index] = (row[0], *following[1:])
            damaged[index + 1] = (following[0], *row[1:])
    return damaged


@pytest.mark.parametrize("seed", range(40))
def test_prechecked_replay_equals_the_sequential_one(
    small: tuple[list[Row], bytes, str], seed: int
) -> None:
    rows, operator_key, vkey = small
    rng = random.Random(seed)
    damaged = rows if seed == 0 else _damaged(rows, rng)
    expected = _sequential(damaged, operator_key, vkey)
    assert expected.startswith("ok") or damaged != rows
    operator_keyid = keys.key_id("operator", operator_key)
    signers = {row[7] for row in rows}
    every = {keyid: _public_key(rows, keyid) for keyid in signers if keyid != operator_keyid}
    wrong = {keyid: bytes(32) for keyid in every}
    for hints in (every, {}, wrong):
        for defer in (False, True):
            got = _prechecked(damaged, operator_key, vkey, hints, defer)
            assert got == expected, (hints is every, hints is wrong, defer)


def _public_key(rows: list[Row], keyid: str) -> bytes:
    """The public key the registry entries among `rows` give `keyid`."""
    for row in rows:
        event = json.loads(b64decode(json.loads(row[1])["payload"]))
        participant = event.get("participant")
        registered = participant["keys"] if isinstance(participant, dict) else []
        for key in [*registered, event.get("key", {})]:
            if key.get("keyid") == keyid:
                return b64decode(key["public_key"])
    raise LookupError(keyid)


def test_a_row_the_worker_cannot_judge_is_replayed_in_full(
    small: tuple[list[Row], bytes, str],
) -> None:
    rows, operator_key, vkey = small
    odd: Any = (1, "not bytes", *rows[1][2:])
    found = precheck([rows[0], odd], {})
    assert found.verdicts == bytes([UNTRIED, REDO])
    assert _prechecked([rows[0], odd], operator_key, vkey, {}, True) == _sequential(
        [rows[0], odd], operator_key, vkey
    )
    assert precheck(
        rows[:1], {keys.key_id("operator", operator_key): operator_key}
    ).verdicts == bytes([VERIFIED])


def test_an_audit_failure_survives_pickling() -> None:
    failure = AuditFailure(3, "stored event_id 'x' differs", 17)
    copy = pickle.loads(pickle.dumps(failure))
    assert (str(copy), copy.step, copy.index, copy.reason) == (
        str(failure),
        3,
        17,
        "stored event_id 'x' differs",
    )


def test_the_replay_reads_every_event_as_the_worker_validated_it() -> None:
    """The events a worker parsed reach the replay pickled (`entry_prechecked`), and a part
    of the partitioned replay reads them again with read_event (`replay_part`): for every
    kind of event, the same event either way."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    scenario = generate(7, chains=12, fraud_rate=1.0, start=start)
    payloads = [
        b64decode(e["payload"]) for e in registrations(scenario, keys.generate_private_key(), start)
    ]
    payloads += [canonical(step.event) for step in scenario.steps]
    read = 0
    for payload in payloads:
        try:
            expected = parse_event(payload)
        except InvalidEvent:
            continue
        for read_back in (read_event(payload), pickle.loads(pickle.dumps(expected))):
            assert type(read_back) is type(expected)
            assert read_back == expected
            assert msgspec.to_builtins(read_back) == msgspec.to_builtins(expected)
        read += 1
    kinds = {parse_event(p).type for p in payloads[:1]} | {s.event["type"] for s in scenario.steps}
    # The generator adds and revokes no key and revokes no licence.
    assert kinds >= EVENT_TYPES - {
        "participant.key_add",
        "participant.key_revoke",
        "licence.revoke",
    }
    assert read > 100
