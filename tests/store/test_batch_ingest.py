"""The batched ingest (signatures verified before the lock, state read in bulk, rows written in
bulk) leaves the database exactly as the row-by-row path did, and refuses what it refused."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from ledger.demo import generate, span
from ledger.home import Home, init_home
from ledger.lots import lineage
from ledger.lots.memory import MemoryState
from ledger.lots.rules import check_event
from ledger.lots.state import Effects, Rejection, apply_event, authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.service import preverify, scenario_run
from ledger.service.ingest import ingest
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.store.rows import LICENCE_FIELDS, QUOTA_FIELDS
from ledger.store.state import DbState, PrefetchedState
from ledger.store.tables import (
    CheckpointRow,
    DeclarationRow,
    EntryRow,
    FlagRow,
    KeyRow,
    LicenceRow,
    LogHead,
    LotEdgeRow,
    LotEventRow,
    LotRow,
    ParticipantRow,
    QuotaRow,
    TreeNodeRow,
)
from ledger.tlog import merkle_verify
from ledger.tlog.note import Checkpoint, sign_checkpoint
from ledger.verify.entry import check_signature, parse_entry
from ledger.verify.signatures import signature_verifies
from tests.support import Party, extract, register

ORIGIN = "batch.ree-ledger.local/log"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TABLES = [
    EntryRow,
    TreeNodeRow,
    CheckpointRow,
    LogHead,
    ParticipantRow,
    KeyRow,
    LotRow,
    LotEventRow,
    LotEdgeRow,
    DeclarationRow,
    LicenceRow,
    QuotaRow,
    FlagRow,
]
DEFAULT = Tolerances()


def _reference_ingest(db: Database, identity: LogIdentity, envelopes: list[Any]) -> None:
    """The row-by-row ingest this project shipped before the batched one, kept as the oracle."""
    parsed = [parse_entry(envelope) for envelope in envelopes]
    with db.write_session() as session:
        head = logstore.lock_head(session)
        tree = logstore.compact_range(session, head.size)
        state = MemoryState(base=DbState(session))
        nodes: list[tuple[int, int, bytes]] = []
        for position, entry in enumerate(parsed):
            index = head.size + position
            event = entry.event
            key = authorise_key(entry.keyid, event.actor, index, state, identity.operator_keyid)
            check_signature(entry, identity.operator_public_key if key is None else key)
            effects = apply_event(event, entry.event_hash, index, state, NOW)
            flags = tuple(check_event(event, state, DEFAULT))
            state.apply(effects, event.id, index)
            write_effects(session, effects)
            session.add(
                EntryRow(
                    idx=index,
                    envelope=entry.leaf_bytes,
                    leaf_hash=entry.leaf_hash,
                    event_hash=entry.event_hash,
                    event_id=event.id,
                    type=event.type,
                    actor=event.actor,
                    keyid=entry.keyid,
                )
            )
            session.add_all(
                FlagRow(
                    idx=index,
                    event_hash=entry.event_hash,
                    lot=flag.lot,
                    code=flag.code,
                    severity=flag.severity,
                    message=flag.message,
                    evidence=dict(flag.evidence),
                )
                for flag in flags
            )
            nodes.extend(tree.append(entry.leaf_hash))
        session.add_all(TreeNodeRow(level=lv, idx=i, hash=h) for lv, i, h in nodes)
        root = tree.root()
        note = sign_checkpoint(
            Checkpoint(identity.origin, tree.size, root), identity.origin, identity.log_key
        )
        logstore.add_checkpoint(session, tree.size, root, note)
        head.size, head.root = tree.size, root
        session.add(head)
        session.commit()


def _dump(db: Database) -> dict[str, list[dict[str, Any]]]:
    dumped: dict[str, list[dict[str, Any]]] = {}
    with db.read_session() as session:
        for model in TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            order = list(table.primary_key.columns)
            rows = session.execute(select(table).order_by(*order)).mappings().all()
            dumped[table.name] = [
                {
                    name: bytes(value) if isinstance(value, memoryview) else value
                    for name, value in row.items()
                }
                for row in rows
            ]
    return dumped


def _scenario_batches(home: Home) -> list[list[Any]]:
    start = NOW - span(6) - timedelta(days=1)
    scenario = generate(5, chains=6, fraud_rate=0.5, start=start)
    batches = [scenario_run.registrations(scenario, home.operator_key(), NOW)]
    batches += [list(b.envelopes) for b in scenario_run.batches(scenario, 40) if not b.refused]
    return batches


def test_batched_ingest_stores_what_the_row_by_row_ingest_stored(
    tmp_path: Path, database_url: str
) -> None:
    identity = init_home(tmp_path / "home", database_url, ORIGIN)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    init_home(tmp_path / "home", reference_url, ORIGIN)
    home = Home(tmp_path / "home")
    db, reference = Database(database_url), Database(reference_url)
    try:
        batches = _scenario_batches(home)
        for envelopes in batches:
            ingest(db, identity, envelopes, NOW)
            _reference_ingest(reference, identity, envelopes)
        ours, theirs = _dump(db), _dump(reference)
    finally:
        db.dispose()
        reference.dispose()
    assert sum(len(b) for b in batches) == len(ours["entries"]) > 100
    assert ours["flags"], "the scenario's frauds raise flags"
    for name in theirs:
        assert ours[name] == theirs[name], name


def _registered(tmp_path: Path, database_url: str) -> tuple[Database, LogIdentity, Party, Party]:
    identity = init_home(tmp_path / "home", database_url, ORIGIN)
    operator = Party("operator", Home(tmp_path / "home").operator_key())
    mine = Party("batch-mine")
    db = Database(database_url)
    ingest(db, identity, [operator.envelope(register(operator, mine, ["mine"]))], NOW)
    return db, identity, operator, mine


def test_a_key_registered_earlier_in_the_same_batch_signs_later_entries(
    tmp_path: Path, database_url: str
) -> None:
    db, identity, operator, _ = _registered(tmp_path, database_url)
    newcomer = Party("batch-newcomer")
    batch = [
        operator.envelope(register(operator, newcomer, ["mine"])),
        newcomer.envelope(extract(newcomer, "NEW-ORE-1")),
    ]
    try:
        accepted = ingest(db, identity, batch, NOW)
    finally:
        db.dispose()
    assert [a.index for a in accepted] == [1, 2]


def test_a_bad_signature_is_refused_at_its_position_even_when_checked_before_the_lock(
    tmp_path: Path, database_url: str
) -> None:
    db, identity, _, mine = _registered(tmp_path, database_url)
    good = mine.envelope(extract(mine, "GOOD-ORE"))
    forged = mine.envelope(extract(mine, "FORGED-ORE"))
    forged["signatures"][0]["sig"] = good["signatures"][0]["sig"]
    try:
        with pytest.raises(Rejection) as refused:
            ingest(db, identity, [good, forged], NOW)
        with db.read_session() as session:
            assert logstore.current_size(session) == 1  # nothing of the batch was written
    finally:
        db.dispose()
    assert (refused.value.code, refused.value.position) == ("bad_signature", 1)


def _many_with_one_forged(mine: Party, count: int, forged_at: int) -> list[Any]:
    batch = [mine.envelope(extract(mine, f"POOL-ORE-{n}")) for n in range(count)]
    batch[forged_at]["signatures"][0]["sig"] = batch[0]["signatures"][0]["sig"]
    return batch


def test_a_bad_signature_in_a_later_chunk_is_refused_at_its_position(
    tmp_path: Path, database_url: str
) -> None:
    """Chunks after the first are verified on the pool's threads while the next are parsed."""
    db, identity, _, mine = _registered(tmp_path, database_url)
    count = 3 * preverify.CHUNK + 5
    forged_at = 2 * preverify.CHUNK + 3
    try:
        with pytest.raises(Rejection) as refused:
            ingest(db, identity, _many_with_one_forged(mine, count, forged_at), NOW)
        assert (refused.value.code, refused.value.position) == ("bad_signature", forged_at)
        with db.read_session() as session:
            assert logstore.current_size(session) == 1  # nothing of the batch was written
        batch = _many_with_one_forged(mine, count, forged_at)
        del batch[forged_at]
        accepted = ingest(db, identity, batch, NOW)
        assert [a.index for a in accepted] == list(range(1, count))
    finally:
        db.dispose()


def test_a_key_of_another_participant_is_refused_though_its_signature_verifies(
    tmp_path: Path, database_url: str
) -> None:
    """The key looked up before the lock is only a guess: the locked state decides."""
    db, identity, operator, mine = _registered(tmp_path, database_url)
    other = Party("batch-other")
    ingest(db, identity, [operator.envelope(register(operator, other, ["mine"]))], NOW)
    posing = other.envelope(extract(mine, "POSING-ORE"))  # signed by other, actor is mine
    try:
        with pytest.raises(Rejection) as refused:
            ingest(db, identity, [posing], NOW)
    finally:
        db.dispose()
    assert refused.value.code == "actor_not_key_owner"


def test_prefetched_state_answers_as_the_row_by_row_state(
    tmp_path: Path, database_url: str
) -> None:
    db, _, _, mine = _registered(tmp_path, database_url)
    try:
        with db.read_session() as session:
            plain, bulk = DbState(session), PrefetchedState(session)
            bulk.prefetch(
                lots=["nope"], participants=[mine.id, "nobody"], keys=[mine.keyid, "x/00"]
            )
            assert bulk.participant(mine.id) == plain.participant(mine.id) is not None
            assert bulk.key(mine.keyid) == plain.key(mine.keyid) is not None
            assert bulk.participant("nobody") is None and bulk.key("x/00") is None
            assert bulk.lot("nope") is None and bulk.declaration("nope") is None
            assert bulk.event_index("nope") is None
    finally:
        db.dispose()


def test_prefetched_quotas_are_the_row_by_row_quotas(tmp_path: Path, database_url: str) -> None:
    """A batch reads the quotas of all its extractions' (mine, year) in one query: the same
    quotas, in the same order, as one query per (mine, year)."""
    db, _, _, mine = _registered(tmp_path, database_url)
    holders, years = [mine.id, "other-mine", "third-mine"], [2025, 2026]
    issued = [(holder, year) for holder in holders for year in years for _ in range(3)]
    try:
        with db.write_session() as session:
            for index, (holder, year) in enumerate(issued):
                # Issue indices out of row order: the order is the issue's, not the table's.
                at = (index * 7) % len(issued)
                deposit = None if index % 2 else "bastnaesite"
                session.add(
                    QuotaRow(
                        id=f"Q{index}",
                        authority="mofcom",
                        holder=holder,
                        year=year,
                        reo_mass_g=100 + index,
                        deposit=deposit,
                        issued_index=at,
                        used_g=index,
                    )
                )
            session.commit()
        with db.read_session() as session:
            plain, bulk = DbState(session), PrefetchedState(session)
            wanted = [(holder, year) for holder in [*holders, "nobody"] for year in [*years, 2027]]
            bulk.prefetch(quotas_of=wanted[::2])
            for holder, year in wanted:
                assert bulk.quotas(holder, year) == plain.quotas(holder, year)
            assert len(bulk.quotas(mine.id, 2026)) == 3
    finally:
        db.dispose()


def test_find_nodes_reads_nodes_of_many_levels_and_leaves_out_absent_ones(
    tmp_path: Path, database_url: str
) -> None:
    db, identity, _, mine = _registered(tmp_path, database_url)
    try:
        ingest(db, identity, [mine.envelope(extract(mine, f"ORE-{n}")) for n in range(12)], NOW)
        with db.read_session() as session:
            wanted = [(0, 0), (0, 12), (1, 3), (2, 2), (3, 0), (3, 1), (9, 9)]
            found = logstore.find_nodes(session, wanted)
            single = {n: logstore.find_nodes(session, [n]).get(n) for n in wanted}
            size = logstore.current_size(session)
            proof = logstore.inclusion_proof(session, 5, size)
            head = session.get(LogHead, logstore.HEAD_ROW_ID)
            assert head is not None
            root = head.root
            leaf = logstore.entry(session, 5)
            assert leaf is not None
            merkle_verify.verify_inclusion(5, size, bytes(leaf.leaf_hash), proof, bytes(root))
    finally:
        db.dispose()
    assert set(found) == {(0, 0), (0, 12), (1, 3), (2, 2), (3, 0)}
    assert found == {node: digest for node, digest in single.items() if digest is not None}


def test_libsodium_verification_agrees_with_pyca() -> None:
    party = Party("agree")
    message = b"DSSEv1 payload" * 40
    signature = party.key.sign(message)
    assert signature_verifies(party.public_key, signature, message)
    assert not signature_verifies(party.public_key, signature, message + b"!")
    assert not signature_verifies(party.public_key, signature[:63], message)
    assert not signature_verifies(party.public_key[:31], signature, message)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not signature_verifies(party.public_key, flipped, message)


# The row-by-row ORM writes the project shipped before BatchWriter, kept as the oracle.
def write_effects(session: Session, effects: Effects) -> None:
    """Store the new state an accepted event produced (insert or replace by primary key)."""
    for lot in effects.lots:
        session.add(LotEventRow(lot=lot.id, idx=lot.updated_index))
        session.merge(
            LotRow(
                id=lot.id,
                product=lot.product,
                spec=lot.spec,
                mass_g=lot.mass_g,
                composition_ppm=dict(lot.composition_ppm),
                custodian=lot.custodian,
                status=lot.status,
                head=lot.head,
                created_index=lot.created_index,
                updated_index=lot.updated_index,
                pending_to=lot.pending_to,
                origins=list(lot.origins),
                deposit=lot.deposit,
                time=lot.time,
                shipped_mass_g=lot.shipped_mass_g,
                lineage=None if lot.lineage is None else lineage.text(lot.lineage),
                created_time=lot.created_time,
            )
        )
    for participant in effects.participants:
        session.merge(
            ParticipantRow(
                id=participant.id,
                name=participant.name,
                country=participant.country,
                roles=sorted(participant.roles),
                registered_index=participant.registered_index,
            )
        )
    for key in effects.keys:
        session.merge(
            KeyRow(
                keyid=key.keyid,
                participant=key.participant,
                public_key=key.public_key,
                valid_from=key.valid_from,
                revoked_at=key.revoked_at,
            )
        )
    for declaration in effects.declarations:
        session.merge(
            DeclarationRow(
                id=declaration.id,
                exporter=declaration.exporter,
                lots=list(declaration.lots),
                status=declaration.status,
                declared_index=declaration.declared_index,
                hs_code=declaration.hs_code,
                declared_mass_g=declaration.declared_mass_g,
                destination=declaration.destination,
                licence=declaration.licence,
                licence_g=declaration.licence_g,
            )
        )
    for licence in effects.licences:
        values = {name: getattr(licence, name) for name in LICENCE_FIELDS}
        for name in ("elements", "destination", "hs_codes"):
            values[name] = None if values[name] is None else list(values[name])
        session.merge(LicenceRow(**values))
    for quota in effects.quotas:
        session.merge(QuotaRow(**{name: getattr(quota, name) for name in QUOTA_FIELDS}))
    for edge in effects.edges:
        session.add(
            LotEdgeRow(child=edge.child, parent=edge.parent, mass_g=edge.mass_g, idx=edge.index)
        )
