"""The audit with its custody replay in parallel (issue 16): the log split into parts that
share no state, each replayed by a process of its own. Private to `audit`, which runs it
with two or more workers and, on any failure, runs the sequential audit instead: what the
sequential audit finds (and the first failure it names) is the audit's verdict.

Events that read or write a common record are coupled (ledger/lots/coupling.py): the lots
an event names or makes, a declaration with its decision, a licence with the declarations
citing it, a mine's quotas of a year with its extractions. The coupled components are dealt
to the parts, largest first, each to the part with the fewest entries; registry events,
which every event reads, are replayed by every part.

Pass 1 is the stream of the sequential audit without its replay: the workers check steps
(1)–(3) and (4)'s arithmetic with the hinted key and name each entry's coupling keys; this
process builds the tree (6)–(7), checks the checkpoints (8)–(9), the log head (10) and that
event ids are unique (what `StateReader.event_index` refuses), and joins the keys. Pass 2
reads the pages again in the same snapshot and hands each part its rows: the part takes
(4)'s key from its replayed registry, verifies the signature itself where that is not the
key pass 1 tried, replays (5) and the rules; this process checks each page's lot history
and flags, and at the end the union of the parts' states against the stored tables.
"""

import heapq
import itertools
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from sqlmodel import Session

from ledger.lots.memory import MemoryState
from ledger.lots.records import Edge
from ledger.service import audit_tables
from ledger.service.audit_partition import (
    PartRow,
    PartState,
    final_state,
    part_pools,
    replay_rows,
)
from ledger.service.audit_pool import prechecked_pages, worker_pool, worker_precheck_coupled
from ledger.service.audit_tables import Raised, StoredState
from ledger.store import log as logstore
from ledger.store.entry_log import EntryLog
from ledger.store.tables import CheckpointRow
from ledger.tlog.note import Checkpoint
from ledger.verify.log import LogAuditor
from ledger.verify.stored import FAILED, Coupled, precheck_coupled

# Pages handed to the parts ahead of the checks of their tables.
LOOKAHEAD = 2
# The part of an entry replayed by every part (a registry event).
EVERY = 255

# Called after each page with (progress, total), both counted in entries.
Progress = Callable[[int, int], None]
Replayed = tuple[list[Raised], list[tuple[str, int]]]


class Unpartitioned(Exception):
    """The partitioned audit cannot vouch for the log: the sequential audit decides."""


def audit_partitioned(
    session: Session, auditor: LogAuditor, parts: int, page: int, progress: Progress | None
) -> tuple[int, int]:
    """Steps (1)–(10) over the log in `session` (a snapshot), `page` entries at a time, the
    replay in `parts` parts; `auditor` holds the trusted keys, the policy and the key hints.
    Returns the checkpoints and the lots; raises AuditFailure, Unpartitioned or whatever else
    went wrong."""
    total = logstore.entry_count(session)
    with worker_pool(parts, auditor.key_hints) as pool:
        if pool is None:
            raise Unpartitioned("no workers")
        verdicts, anchors, parents, checkpoints, stored = _first_pass(
            session, auditor, pool, page, total, progress
        )
    dealt = _deal(anchors, parents, parts)
    del anchors, parents
    # Started from the fork server the first pass's workers started: about as fast as forks.
    with part_pools(parts, auditor) as pools:
        _second_pass(session, auditor.size, pools, verdicts, dealt, page, total, progress)
        states = [pool.submit(final_state) for pool in pools]
        audit_tables.check_no_rows_beyond(session, auditor.size)
        lots = audit_tables.check_state(session, _merged(states), stored)
    audit_tables.check_identity(
        session, auditor.origin, auditor.log_vkey, auditor.operator_public_key
    )
    return checkpoints, lots


def _first_pass(
    session: Session,
    auditor: LogAuditor,
    pool: Executor,
    page: int,
    total: int,
    progress: Progress | None,
) -> tuple[bytearray, list[str | None], dict[str, str], int, StoredState]:
    """Steps (1)–(3) and (6)–(10) but the tables the replay makes: each entry's verdict, its
    anchor (one of its keys; None for a registry event), the keys joined (a union-find
    forest, key -> parent), the number of checkpoints, and the stored state tables."""
    checkpoints = logstore.checkpoint_stream(session, page)
    pending = next(checkpoints, None)
    previous: Checkpoint | None = None
    count = 0
    ids: set[str] = set()
    verdicts = bytearray()
    anchors: list[str | None] = []
    parents: dict[str, str] = {}
    pages = prechecked_pages(pool, EntryLog(session).pages(page), worker_precheck_coupled)
    # The first page starts the workers (in a thread): meanwhile, this process reads the
    # stored state tables (in the snapshot, which the entries are read in too), which it
    # would otherwise read at the end while the workers wait.
    first = next(pages, None)
    stored = audit_tables.stored_state(session)
    for chunks in itertools.chain([first] if first else [], pages):
        completed: list[tuple[int, int, int, bytes]] = []
        reached: list[tuple[CheckpointRow, bytes]] = []
        for rows, future in chunks:
            found: Coupled = (
                precheck_coupled(rows, auditor.key_hints) if future is None else future.result()
            )
            for offset, row in enumerate(rows):
                index, verdict, keys = row[0], found.verdicts[offset], found.keys[offset]
                if verdict >= FAILED or index != auditor.size or row[4] in ids:
                    raise Unpartitioned(f"entry {index}")
                ids.add(row[4])
                verdicts.append(verdict)
                anchors.append(None if keys is None else _join(parents, keys))
                for node in auditor.tree.append(row[2]):
                    completed.append((index, *node))
                while pending is not None and pending.size == auditor.size:
                    reached.append((pending, auditor.tree.root()))
                    pending = next(checkpoints, None)
        audit_tables.check_nodes(session, completed)
        for checkpoint_row, root in reached:
            previous = audit_tables.check_checkpoint(
                session, auditor, checkpoint_row, root, previous
            )
            count += 1
        if progress:
            progress(auditor.size // 2, total)
    audit_tables.finish(session, auditor, pending, previous)
    return verdicts, anchors, parents, count, stored


def _root(parents: dict[str, str], key: str) -> str:
    parent = parents.setdefault(key, key)
    while parent != key:
        grand = parents[parent]
        parents[key] = grand
        key, parent = parent, grand
    return key


def _join(parents: dict[str, str], keys: tuple[str, ...]) -> str:
    """Join `keys` into one component; its root (a key held in `parents`)."""
    if not keys:
        raise Unpartitioned("an event with no coupling keys")
    root = _root(parents, keys[0])
    for key in keys[1:]:
        other = _root(parents, key)
        if other != root:
            parents[other] = root
    return root


def _deal(anchors: list[str | None], parents: dict[str, str], parts: int) -> bytearray:
    """Each entry's part (EVERY for a registry entry): the components, largest first, each
    to the part with the fewest entries so far."""
    sizes: dict[str, int] = {}
    roots: list[str | None] = []
    for anchor in anchors:
        root = None if anchor is None else _root(parents, anchor)
        roots.append(root)
        if root is not None:
            sizes[root] = sizes.get(root, 0) + 1
    loads = [(0, part) for part in range(parts)]
    part_of: dict[str, int] = {}
    for root, size in sorted(sizes.items(), key=lambda item: -item[1]):
        load, part = heapq.heappop(loads)
        part_of[root] = part
        heapq.heappush(loads, (load + size, part))
    return bytearray(EVERY if root is None else part_of[root] for root in roots)


def _second_pass(
    session: Session,
    size: int,
    pools: list[Executor],
    verdicts: bytearray,
    dealt: bytearray,
    page_size: int,
    total: int,
    progress: Progress | None,
) -> None:
    """The replay of each part by its process, page by page; each page's lot history and
    flags checked against the tables as the parts' findings come in."""
    window: deque[tuple[int, int, list[Future[Replayed]]]] = deque()
    expected = 0
    for page in EntryLog(session).pages(page_size):
        shares: list[list[PartRow]] = [[] for _ in pools]
        for row in page:
            index = row[0]
            if index >= size:
                break
            if index != expected:
                raise Unpartitioned(f"entry {expected} not read again")
            expected += 1
            verdict, part = verdicts[index], dealt[index]
            if part == EVERY:
                for number, share in enumerate(shares):
                    share.append((row, verdict, number == 0))
            else:
                shares[part].append((row, verdict, True))
        if expected > page[0][0]:
            futures = [
                pool.submit(replay_rows, share) for pool, share in zip(pools, shares, strict=True)
            ]
            window.append((page[0][0], expected - 1, futures))
        if len(window) > LOOKAHEAD:
            _check_page(session, window.popleft(), total, progress)
        if expected == size:
            break
    while window:
        _check_page(session, window.popleft(), total, progress)
    if expected != size:
        raise Unpartitioned(f"entry {expected} not read again")


def _check_page(
    session: Session,
    page: tuple[int, int, list[Future[Replayed]]],
    total: int,
    progress: Progress | None,
) -> None:
    first, last, futures = page
    flags: list[Raised] = []
    touched: list[tuple[str, int]] = []
    for future in futures:
        raised, made = future.result()
        flags += raised
        touched += made
    audit_tables.check_history(session, touched, first, last)
    audit_tables.check_flags(session, flags, first, last)
    if progress:
        progress((total + last + 1) // 2, total)


def _merged(futures: list[Future[PartState]]) -> MemoryState:
    """The parts' states as one: each lot, declaration, licence, quota and edge from the one
    part that holds it, the registry (the same in every part) from the first."""
    state = MemoryState()
    edges: dict[str, Edge] = {}
    held: list[dict[str, Any]] = [
        state.lots,
        state.declarations,
        state.licences,
        state.quota_records,
        edges,
    ]
    for number, future in enumerate(futures):
        lots, participants, keys, declarations, licences, quotas, made = future.result()
        if number == 0:
            state.participants, state.keys = participants, keys
        elif (participants, keys) != (state.participants, state.keys):
            raise Unpartitioned("the parts replayed different registries")
        found: list[dict[str, Any]] = [lots, declarations, licences, quotas, made]
        for table, part in zip(held, found, strict=True):
            before = len(table)
            table.update(part)
            if len(table) != before + len(part):
                raise Unpartitioned("two parts hold one record")
    state.edges.extend(edges.values())
    return state
