"""Stored tree nodes read at the driver: by id, or with the log head in the same query."""

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlmodel import Session

from ledger.store.bulk import driver_rows
from ledger.store.tables import LogHead, TreeNodeRow
from ledger.tlog import merkle
from ledger.tlog.merkle import NodeId

HEAD_ROW_ID = 1
# Node ids per query: well under every backend's limit on bound parameters.
NODES_PER_QUERY = 2000


def find_nodes(session: Session, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """The stored perfect-subtree hashes among `ids`, in one query; absent ones are left out.

    Read from the database, never from the node cache: the audit reads its nodes here.
    """
    wanted = sorted(set(ids))
    found: dict[NodeId, bytes] = {}
    for start in range(0, len(wanted), NODES_PER_QUERY):
        found.update(_find_node_chunk(session, wanted[start : start + NODES_PER_QUERY]))
    return found


def find_node_ranges(
    session: Session, ranges: Iterable[tuple[int, int, int]]
) -> dict[NodeId, bytes]:
    """The stored perfect-subtree hashes of each (level, first, last) range of node indices
    (inclusive), one primary-key range per level, in one query; absent ones are left out.

    Read from the database, never from the node cache: the audit reads its nodes here.
    """
    terms: list[str] = []
    params: list[int] = []
    for level, first, last in ranges:
        terms.append("(level = ? AND idx >= ? AND idx <= ?)")
        params += [level, first, last]
    if not terms:
        return {}
    sql = f"SELECT level, idx, hash FROM {TreeNodeRow.__tablename__} WHERE {' OR '.join(terms)}"
    rows = driver_rows(session, sql, params)
    return {(int(level), int(idx)): bytes(digest) for level, idx, digest in rows}


def _find_node_chunk(session: Session, wanted: list[NodeId]) -> dict[NodeId, bytes]:
    shape, params = _by_level(wanted)
    rows = driver_rows(session, _nodes_sql(shape, False), params)
    return {(int(level), int(idx)): bytes(digest) for level, idx, digest in rows}


def _by_level(wanted: list[NodeId]) -> tuple[tuple[int, ...], list[int]]:
    """`wanted` (sorted) as the shape of its query (ids per level) and the query's parameters."""
    shape: list[int] = []
    params: list[int] = []
    last = None
    for level, idx in wanted:
        if level != last:
            shape.append(0)
            params.append(level)
            last = level
        shape[-1] += 1
        params.append(idx)
    return tuple(shape), params


@functools.lru_cache(maxsize=512)
def _nodes_sql(shape: tuple[int, ...], with_head: bool) -> str:
    """The node query for `shape`: `level = ? AND idx IN (...)` per level, OR-ed.

    Each term is a primary-key search (a row-value `(level, idx) IN (...)` makes SQLite scan
    the table). With the head, the log head is its first row, as (-1, size, root).
    """
    head = f"SELECT -1, size, root FROM {LogHead.__tablename__} WHERE id = ?"
    if not shape:
        return head
    terms = " OR ".join(f"(level = ? AND idx IN ({', '.join('?' * n)}))" for n in shape)
    nodes = f"SELECT level, idx, hash FROM {TreeNodeRow.__tablename__} WHERE {terms}"
    return f"{head} UNION ALL {nodes}" if with_head else nodes


Head = tuple[int, bytes]
"""(size, root) of the log head."""


def node_range(session: Session, level: int, start: int, end: int) -> Sequence[tuple[int, Any]]:
    """The stored (idx, hash) of nodes start..end - 1 of `level`, in index order."""
    return driver_rows(session, _RANGE_SQL, (level, start, end))


_RANGE_SQL = (
    f"SELECT idx, hash FROM {TreeNodeRow.__tablename__} "
    "WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"
)


def head_and_nodes(session: Session, ids: Iterable[NodeId]) -> tuple[Head, dict[NodeId, bytes]]:
    """The log head and the stored hashes among `ids`; the head comes with the first nodes."""
    wanted = sorted(set(ids))
    if not wanted:  # a warm cache's proof: the head alone
        for _, size, root in driver_rows(session, _nodes_sql((), True), (HEAD_ROW_ID,)):
            return (int(size), bytes(root)), {}
    head: Head | None = None
    found: dict[NodeId, bytes] = {}
    for start in range(0, max(len(wanted), 1), NODES_PER_QUERY):
        shape, params = _by_level(wanted[start : start + NODES_PER_QUERY])
        if not start:
            params.insert(0, HEAD_ROW_ID)
        for level, idx, digest in driver_rows(session, _nodes_sql(shape, not start), params):
            if level == -1:
                head = (int(idx), bytes(digest))
            else:
                found[(int(level), int(idx))] = bytes(digest)
    if head is None:
        raise RuntimeError("the database has no log head row: run `ree-ledger init`")
    return head, found


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
