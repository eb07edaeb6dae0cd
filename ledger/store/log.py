"""The log in the database: the sequencer lock, entries, stored tree nodes, checkpoints, proofs."""

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from ledger.store.tables import CheckpointRow, EntryRow, LedgerMeta, LogHead, TreeNodeRow
from ledger.tlog import merkle
from ledger.tlog.merkle import NodeId

HEAD_ROW_ID = 1
# Node ids per query: well under every backend's limit on bound parameters.
NODES_PER_QUERY = 2000


def lock_head(session: Session) -> LogHead:
    """The log head, locked until the transaction ends: the one sequencer.

    On PostgreSQL this is a row lock (SELECT … FOR UPDATE); on SQLite the write session already
    holds the database's write lock from BEGIN IMMEDIATE.
    """
    head: LogHead = session.execute(
        select(LogHead).where(col(LogHead.id) == HEAD_ROW_ID).with_for_update()
    ).scalar_one()
    return head


def head(session: Session) -> LogHead:
    """The log head, unlocked (for readers)."""
    row = session.get(LogHead, HEAD_ROW_ID)
    if row is None:
        raise RuntimeError("the database has no log head row: run `ree-ledger init`")
    return row


def current_size(session: Session) -> int:
    return head(session).size


def find_nodes(session: Session, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """The stored perfect-subtree hashes among `ids`, in one query; absent ones are left out.

    The query reads `level = L AND idx IN (...)` per level, OR-ed: each term is a primary-key
    search. (A row-value `(level, idx) IN (...)` makes SQLite scan the whole table.)
    """
    wanted = sorted(set(ids))
    found: dict[NodeId, bytes] = {}
    for start in range(0, len(wanted), NODES_PER_QUERY):
        found.update(_find_node_chunk(session, wanted[start : start + NODES_PER_QUERY]))
    return found


def _find_node_chunk(session: Session, wanted: list[NodeId]) -> dict[NodeId, bytes]:
    by_level: dict[int, list[int]] = {}
    for level, idx in wanted:
        by_level.setdefault(level, []).append(idx)
    # Plain driver SQL: building the same statement with SQLAlchemy's expression language
    # costs ten times the query itself, and proofs are read often.
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    terms: list[str] = []
    params: list[int] = []
    for level, indexes in by_level.items():
        terms.append(f"(level = {mark} AND idx IN ({', '.join([mark] * len(indexes))}))")
        params += [level, *indexes]
    rows = connection.exec_driver_sql(
        f"SELECT level, idx, hash FROM {TreeNodeRow.__tablename__} WHERE {' OR '.join(terms)}",
        tuple(params),
    ).all()
    return {(int(level), int(idx)): bytes(digest) for level, idx, digest in rows}


def load_nodes(session: Session, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """The stored hashes of `ids`; every one must exist."""
    wanted = set(ids)
    found = find_nodes(session, wanted)
    missing = sorted(node for node in wanted if node not in found)
    if missing:
        raise LookupError(f"stored tree nodes missing: {missing[:4]}")
    return found


def node_reader(nodes: Mapping[NodeId, bytes]) -> merkle.NodeReader:
    def get_node(level: int, index: int) -> bytes:
        return nodes[(level, index)]

    return get_node


def compact_range(session: Session, size: int) -> merkle.CompactRange:
    nodes = load_nodes(session, merkle.root_nodes(size))
    return merkle.CompactRange.from_nodes(size, node_reader(nodes))


def add_nodes(session: Session, nodes: Iterable[tuple[int, int, bytes]]) -> None:
    """Store perfect-subtree hashes, in one multi-row INSERT."""
    rows = [{"level": level, "idx": idx, "hash": digest} for level, idx, digest in nodes]
    if rows:
        session.execute(insert(TreeNodeRow.__table__), rows)  # type: ignore[attr-defined]


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    nodes = load_nodes(session, merkle.inclusion_nodes(index, size))
    return merkle.inclusion_proof(index, size, node_reader(nodes))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    nodes = load_nodes(session, merkle.consistency_nodes(first, second))
    return merkle.consistency_proof(first, second, node_reader(nodes))


def entry(session: Session, index: int) -> EntryRow | None:
    return session.get(EntryRow, index)


def entry_pages(session: Session, page: int) -> Iterator[list[EntryRow]]:
    """Every entry in index order, `page` rows at a time, so memory stays flat."""
    start = 0
    while True:
        rows = list(
            session.execute(
                select(EntryRow)
                .where(EntryRow.idx >= start)  # type: ignore[arg-type]
                .order_by(EntryRow.idx)  # type: ignore[arg-type]
                .limit(page)
            ).scalars()
        )
        if not rows:
            return
        yield rows
        start = rows[-1].idx + 1
        session.expunge_all()


def checkpoint_stream(session: Session, page: int) -> Iterator[CheckpointRow]:
    """Every checkpoint in size order, read `page` rows at a time."""
    after = 0
    while True:
        rows = list(
            session.execute(
                select(CheckpointRow)
                .where(CheckpointRow.size > after)  # type: ignore[arg-type]
                .order_by(CheckpointRow.size)  # type: ignore[arg-type]
                .limit(page)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].size


def entry_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(EntryRow)).scalar_one())


def latest_checkpoint(session: Session) -> CheckpointRow | None:
    return (
        session.execute(
            select(CheckpointRow).order_by(CheckpointRow.size.desc()).limit(1)  # type: ignore[attr-defined]
        )
        .scalars()
        .first()
    )


def add_checkpoint(session: Session, size: int, root: bytes, note: str, now: datetime) -> None:
    session.add(CheckpointRow(size=size, root=root, note=note, signed_at=now))


def read_meta(session: Session) -> dict[str, str]:
    return {row.name: row.value for row in session.execute(select(LedgerMeta)).scalars()}


def write_meta(session: Session, values: Mapping[str, str]) -> None:
    for name, value in values.items():
        session.merge(LedgerMeta(name=name, value=value))
