"""A lot's offline bundle: its ancestry's entries, the registry entries behind them, proofs."""

from collections.abc import Collection, Iterable

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from ledger.lots.events import Event, ExportDeclare, InvalidEvent, LotShip, parse_event
from ledger.lots.fields import OPERATOR
from ledger.lots.state import ParticipantState
from ledger.service.queries import Forbidden, NotFound, may_read_detail
from ledger.service.witnesses import covering_checkpoint
from ledger.store import findings
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.state import DbState
from ledger.store.tables import EntryRow, KeyRow, LicenceRow, ParticipantRow
from ledger.tlog import merkle
from ledger.tlog.encoding import b64decode, b64encode, parse_json
from ledger.tlog.envelope import Envelope, envelope_json
from ledger.tlog.errors import EncodingError
from ledger.tlog.keys import key_id
from ledger.tlog.proof import TlogProof, format_tlog_proof
from ledger.verify.bundle import BUNDLE_FORMAT, Bundle, BundleEntry, BundleProof


def lot_bundle(
    db: Database, lot_id: str, reader: ParticipantState, *, tlog_proofs: bool = False
) -> Bundle:
    """Every entry behind `lot_id`, with inclusion proofs to a checkpoint: the newest one a
    quorum of the log's witnesses cosigned that covers them (with their cosignatures), else
    the newest one.

    The entries are those of every lot of its ancestry, the licence entries (issue and
    revoke) its declarations name, and the registry entries that registered their actors
    (and the receivers of their shipments) and added or revoked their keys. Raises NotFound
    for an unknown lot, Forbidden for a reader who may not read it.
    """
    with db.snapshot_session() as session:
        lot = DbState(session).lot(lot_id)
        if lot is None:
            raise NotFound(f"lot {lot_id!r} is not in the ledger")
        if not may_read_detail(reader, lot):
            raise Forbidden(
                f"{reader.id} may not read lot {lot_id!r}: only its holder, customs and "
                "auditors may"
            )
        history = findings.event_indexes(session, findings.ancestry(session, lot_id))
        rows = _entries(session, {index for found in history.values() for index in found})
        rows.update(_entries(session, _licence_indices(session, rows.values())))
        meta = logstore.read_meta(session)
        operator_keyid = key_id(OPERATOR, b64decode(meta["operator_key"]))
        rows.update(_entries(session, _registry_indices(session, rows.values(), operator_keyid)))
        # The newest checkpoint a quorum of the witnesses cosigned that covers every entry,
        # else the newest: the note carries the witnesses' cosignature lines.
        checkpoint = covering_checkpoint(session, max(rows) + 1)
        if checkpoint is None:  # a lot exists only in a log with a checkpoint
            raise NotFound("the log is empty: no checkpoint has been signed yet")
        proofs = _proofs(session, list(rows), checkpoint.size)
    proof_note = checkpoint.note if tlog_proofs else None
    return Bundle(
        format=BUNDLE_FORMAT,
        lot=lot_id,
        origin=meta["origin"],
        log_key=meta["log_key"],
        operator_key=meta["operator_key"],
        checkpoint=checkpoint.note,
        entries=[
            _entry(rows[index], checkpoint.size, proofs[index], proof_note)
            for index in sorted(rows)
        ],
    )


def _entries(session: Session, indices: Collection[int]) -> dict[int, EntryRow]:
    if not indices:
        return {}
    rows = session.execute(
        select(EntryRow).where(col(EntryRow.idx).in_(bindparam("ids", expanding=True))),
        {"ids": sorted(indices)},
    ).scalars()
    return {row.idx: row for row in rows}


def _licence_indices(session: Session, rows: Iterable[EntryRow]) -> set[int]:
    """The licence.issue and licence.revoke entries of the licences the declarations among
    `rows` name (DESIGN §9.1): the replay checks the licence against them."""
    named: set[str] = set()
    for row in rows:
        if row.type != "export.declare":
            continue
        event = _event(row)
        if isinstance(event, ExportDeclare) and event.declaration.licence is not None:
            named.add(event.declaration.licence)
    if not named:
        return set()
    found = session.execute(
        select(col(LicenceRow.issued_index), col(LicenceRow.revoked_index)).where(
            col(LicenceRow.id).in_(bindparam("ids", expanding=True))
        ),
        {"ids": sorted(named)},
    ).all()
    return {int(index) for pair in found for index in pair if index is not None}


def _event(row: EntryRow) -> Event | None:
    try:
        return parse_event(Envelope.from_json(envelope_json(row.envelope)).payload)
    except (EncodingError, InvalidEvent):
        return None  # a damaged entry: the verifier will say so


def _registry_indices(session: Session, rows: Iterable[EntryRow], operator_keyid: str) -> set[int]:
    """The registry entries that made the signing keys valid (or revoked them) and registered
    every participant the custody replay asks about: the actors and their shipments' receivers."""
    rows = list(rows)
    keyids = sorted({row.keyid for row in rows} - {operator_keyid})
    participants = sorted(({row.actor for row in rows} | _receivers(rows)) - {OPERATOR})
    keys = session.execute(
        select(KeyRow).where(col(KeyRow.keyid).in_(bindparam("ids", expanding=True))),
        {"ids": keyids},
    ).scalars()
    indices: set[int] = set()
    for key in keys:
        indices.add(key.valid_from)
        if key.revoked_at is not None:
            indices.add(key.revoked_at)
    registered = session.execute(
        select(col(ParticipantRow.registered_index)).where(
            col(ParticipantRow.id).in_(bindparam("ids", expanding=True))
        ),
        {"ids": participants},
    ).scalars()
    return indices | {int(index) for index in registered}


def _receivers(rows: Iterable[EntryRow]) -> set[str]:
    found: set[str] = set()
    for row in rows:
        if row.type != "lot.ship":
            continue
        event = _event(row)
        if isinstance(event, LotShip):
            found.add(event.to)
    return found


def _proofs(session: Session, indices: list[int], size: int) -> dict[int, list[bytes]]:
    """Inclusion proofs for all the entries, from one read of the stored nodes they need."""
    wanted = {node for index in indices for node in merkle.inclusion_nodes(index, size)}
    nodes = logstore.find_nodes(session, wanted)

    def get_node(level: int, idx: int) -> bytes:
        # A missing node (a damaged store) gives a proof that fails verification, visibly.
        return nodes.get((level, idx), bytes(merkle.HASH_SIZE))

    return {index: merkle.inclusion_proof(index, size, get_node) for index in indices}


def _entry(row: EntryRow, size: int, proof: list[bytes], note: str | None) -> BundleEntry:
    text = None if note is None else format_tlog_proof(TlogProof(row.idx, tuple(proof), note))
    return BundleEntry(
        index=row.idx,
        envelope=parse_json(row.envelope),
        event_hash=row.event_hash,
        leaf_hash=b64encode(row.leaf_hash),
        inclusion_proof=BundleProof(
            index=row.idx, size=size, hashes=[b64encode(value) for value in proof]
        ),
        tlog_proof=text,
    )
