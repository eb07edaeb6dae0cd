"""A lot's provenance: its ancestry, every step verified against the checkpoint, its mines."""

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from ledger.lots.events import LotExtract
from ledger.lots.provenance import (
    HISTORY_SEVERITIES,
    MineOrigin,
    OriginShare,
    claimed_assays,
    history_indexes,
    origin_shares,
    verdict,
)
from ledger.lots.records import Edge, LotState
from ledger.service.queries import NotFound
from ledger.service.witnesses import cosigners, covering_checkpoint, read_config
from ledger.store import findings
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.findings import StoredFlag
from ledger.store.rows import key_from_row, lot_from_row
from ledger.store.tables import EntryRow, KeyRow, LotRow
from ledger.tlog import merkle
from ledger.tlog.encoding import b64decode
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import key_id
from ledger.tlog.note import Checkpoint, open_checkpoint
from ledger.verify.lot import ProvenEntry, StepResult, TrustRoots, verify_entries
from ledger.verify.memo import Memos

# This process's memos of verified entries and inclusions, kept across requests.
MEMOS = Memos()


@dataclass(frozen=True)
class Step:
    """One entry of the ancestry, with what it did and whether it verified."""

    index: int
    type: str
    actor: str
    time: str
    lots: tuple[str, ...]
    result: StepResult
    # An assay by a participant that did not hold the lot then: its claim, shown as such.
    claimed: bool = False


@dataclass(frozen=True)
class Provenance:
    lot: LotState
    verdict: str
    checkpoint: str
    checkpoint_problem: str | None
    # The witnesses whose cosignature of the checkpoint verifies, each with its time.
    cosigners: tuple[tuple[str, int], ...]
    # Why the checkpoint's witness lines count for nothing, when one does not verify.
    cosignature_problem: str | None
    lots: tuple[LotState, ...]
    edges: tuple[Edge, ...]
    origins: tuple[OriginShare, ...]
    steps: tuple[Step, ...]
    # The lot's ancestry's own flags, and the medium and high flags of the events of its
    # history that name another lot (DESIGN §9.2), newest first.
    flags: tuple[StoredFlag, ...]
    # The ids of the latter: flags of an event in this lot's history, on a lot outside it.
    history_flags: frozenset[int] = frozenset()

    def from_history(self, flag: StoredFlag) -> bool:
        """Whether `flag` counts here as a finding of an event in this lot's history."""
        return flag.id in self.history_flags


def provenance(db: Database, lot_id: str) -> Provenance:
    """Everything behind `lot_id`; cost grows with its ancestry, not with the ledger."""
    with db.read_session() as session:
        lots = _lots(session, findings.ancestry(session, lot_id))
        if lot_id not in lots:
            raise NotFound(f"lot {lot_id!r} is not in the ledger")
        edges = findings.edges_into(session, list(lots))
        history = findings.event_indexes(session, list(lots))
        indices = sorted({index for found in history.values() for index in found})
        rows = _entries(session, indices)
        flags = findings.flags_on(session, list(lots))
        # Every event in the history counts, whichever lot its finding names: one query.
        counted = sorted(history_indexes(lot_id, history, edges))
        around = [
            flag
            for flag in findings.flags_at(session, counted, HISTORY_SEVERITIES)
            if flag.lot not in lots
        ]
        # Read last: every entry read above is committed, so this checkpoint covers it.
        meta = logstore.read_meta(session)
        note, checkpoint, problem = _checkpoint(session, meta, max(indices, default=-1) + 1)
        witnesses = read_config(session).keys
        proofs = _proofs(session, indices, checkpoint.size)
        roots = _roots(session, rows, checkpoint, meta)
    present = [i for i in indices if i in rows]
    results = verify_entries(
        [ProvenEntry(i, rows[i].envelope, proofs[i]) for i in present], roots, history, MEMOS
    )
    # A lot's history naming an entry the store does not hold is a broken record, not an error.
    results += [
        StepResult(i, "", (f"(1) entry {i} is in the lots' history but not in the log",), None)
        for i in indices
        if i not in rows
    ]
    results.sort(key=lambda result: result.index)
    touched = _touched(history)
    claimed = claimed_assays((r.index, r.event) for r in results if r.event is not None)
    steps = tuple(
        _step(rows.get(result.index), result.index, touched, result, result.index in claimed)
        for result in results
    )
    intact = problem is None and all(result.ok for result in results)
    cosigned, cosignature_problem = cosigners(note, witnesses)
    mines = _mines(steps)
    return Provenance(
        lot=lots[lot_id],
        verdict=verdict(intact, len(flags) + len(around)),
        checkpoint=note,
        checkpoint_problem=problem,
        cosigners=tuple(sorted(cosigned.items())),
        cosignature_problem=cosignature_problem,
        lots=tuple(lots.values()),
        edges=tuple(edges),
        origins=tuple(origin_shares(lots[lot_id], lots, edges, mines)),
        steps=steps,
        flags=tuple(sorted([*flags, *around], key=lambda flag: (-flag.index, -flag.id))),
        history_flags=frozenset(flag.id for flag in around),
    )


def _lots(session: Session, ids: list[str]) -> dict[str, LotState]:
    rows = session.execute(
        select(LotRow).where(col(LotRow.id).in_(bindparam("ids", expanding=True))), {"ids": ids}
    ).scalars()
    return {row.id: lot_from_row(row) for row in rows}


@dataclass(frozen=True)
class _Entry:
    """The columns of an entry row that provenance reads."""

    idx: int
    envelope: bytes
    type: str
    actor: str
    keyid: str


def _entries(session: Session, indices: list[int]) -> dict[int, _Entry]:
    # Columns, not ORM objects: building 100 SQLModel instances cost more than the query.
    rows = session.execute(
        select(
            col(EntryRow.idx),
            col(EntryRow.envelope),
            col(EntryRow.type),
            col(EntryRow.actor),
            col(EntryRow.keyid),
        ).where(col(EntryRow.idx).in_(bindparam("ids", expanding=True))),
        {"ids": indices},
    )
    return {
        int(idx): _Entry(int(idx), bytes(envelope), type_, actor, keyid)
        for idx, envelope, type_, actor, keyid in rows
    }


def _checkpoint(
    session: Session, meta: dict[str, str], at_least: int
) -> tuple[str, Checkpoint, str | None]:
    """The checkpoint covering entries below `at_least` (witnessed if a quorum cosigned one,
    else the newest), opened with the log key; a bad one is reported, not raised."""
    row = covering_checkpoint(session, at_least)
    if row is None:
        raise NotFound("the log is empty: no checkpoint has been signed yet")
    try:
        return row.note, _opened(row.note, meta["log_key"]), None
    except (EncodingError, VerificationError) as exc:
        return row.note, Checkpoint(meta["origin"], row.size, row.root), str(exc)


@lru_cache(maxsize=64)
def _opened(note: str, log_key: str) -> Checkpoint:
    """`open_checkpoint`, memoised on its exact arguments (the signed note's text and the
    log's verifier key): a pure function of them, so a hit is what verifying again would
    give. Only successes are kept (lru_cache stores no exception): a note that fails is
    checked, and reported, every time."""
    return open_checkpoint(note, log_key)


def _proofs(session: Session, indices: list[int], size: int) -> dict[int, tuple[bytes, ...]]:
    """Inclusion proofs for all the entries, from one read of the stored nodes they need."""
    wanted = {
        node for index in indices if index < size for node in merkle.inclusion_nodes(index, size)
    }
    nodes = logstore.find_nodes(session, wanted)

    def get_node(level: int, idx: int) -> bytes:
        # A missing node (tampered store) yields a proof that will not verify.
        return nodes.get((level, idx), bytes(32))

    # An index beyond the checkpoint gets no proof: its inclusion check fails and says so.
    return {
        index: tuple(merkle.inclusion_proof(index, size, get_node)) if index < size else ()
        for index in indices
    }


def _roots(
    session: Session, rows: dict[int, _Entry], checkpoint: Checkpoint, meta: dict[str, str]
) -> TrustRoots:
    keyids = sorted({row.keyid for row in rows.values()})
    keys = session.execute(
        select(KeyRow).where(col(KeyRow.keyid).in_(bindparam("ids", expanding=True))),
        {"ids": keyids},
    ).scalars()
    operator_key = b64decode(meta["operator_key"])
    return TrustRoots(
        checkpoint=checkpoint,
        keys={row.keyid: key_from_row(row) for row in keys},
        operator_keyid=key_id("operator", operator_key),
        operator_public_key=operator_key,
    )


def _touched(history: dict[str, list[int]]) -> dict[int, tuple[str, ...]]:
    """For each entry index, the lots of `history` it touched, sorted."""
    touched: dict[int, list[str]] = {}
    for lot, found in history.items():
        for index in found:
            touched.setdefault(index, []).append(lot)
    return {index: tuple(sorted(lots)) for index, lots in touched.items()}


def _step(
    row: _Entry | None,
    index: int,
    touched: dict[int, tuple[str, ...]],
    result: StepResult,
    claimed: bool,
) -> Step:
    event_time = result.event.time if result.event else ""
    kind, actor = (row.type, row.actor) if row else ("", "")
    return Step(index, kind, actor, event_time, touched.get(index, ()), result, claimed)


def _mines(steps: tuple[Step, ...]) -> dict[str, MineOrigin]:
    """The mine lots of the ancestry, as their signed lot.extract payloads describe them."""
    mines: dict[str, MineOrigin] = {}
    for step in steps:
        event = step.result.event
        if isinstance(event, LotExtract):
            site = event.site
            mines[event.lot.id] = MineOrigin(
                event.lot.id, event.actor, site.id, site.name, site.country, event.deposit
            )
    return mines
