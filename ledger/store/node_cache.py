"""A per-process cache of the stored tree nodes, for inclusion proofs (see NodeCache)."""

import threading
import weakref
from collections.abc import Mapping, Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from ledger.store.node_levels import NodeLevels, lowest_level
from ledger.store.nodes import Head, find_nodes, head_and_nodes, node_range, node_reader
from ledger.tlog import merkle
from ledger.tlog.merkle import NodeId

# The node cache (NodeCache): at most this many bytes of stored hashes per database and process
# (32 MiB holds every level but the leaves of a log of 1,048,576 entries) ...
NODE_CACHE_BYTES = 32 * 1024 * 1024
# ... and at most this many rows read into it per request, so that no request pays for more
# than a slice of the warm-up (30-70 ms here); a fresh process at 1M entries is warm after
# 31 requests for proofs.
NODE_CACHE_FILL_ROWS = 1 << 15
_TAILS_KEPT = 1024  # memoised proof tails, (size, len(lower), count) -> hashes (see _start)

_caches: "weakref.WeakKeyDictionary[Engine, NodeCache]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()
_CACHE_INFO_KEY = "ree_ledger.node_cache"


def node_cache(session: Session) -> "NodeCache":
    """The node cache of the database `session` reads (one per engine, made on first use)."""
    cache = session.info.get(_CACHE_INFO_KEY)
    if isinstance(cache, NodeCache):
        return cache
    engine = session.get_bind().engine
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = NodeCache()
    session.info[_CACHE_INFO_KEY] = cache
    return cache


_TailKey = tuple[int, int, int]
_Pending = tuple[list[bytes | None], list[tuple[int, NodeId]], int, int, _TailKey | None]
"""One proof under way: the hashes of its nodes (None: to read), (position, node) of those
to read, where its right edge sits (hashes[edge : edge + count] fold into one), and the key
to memoise its tail under (None: the tail came from the memo, or is not to be kept)."""


class NodeCache:
    """The stored perfect-subtree hashes of one database, held in this process for proofs.

    What it holds: for every level from `lowest_level` up, the hashes of that level's nodes
    0, 1, 2, ... of the tree of `size` (the log head it last synced with) (NodeLevels), and
    the tails of the last proofs (a plan's upper part, its right edge folded: shared by the
    leaves whose paths meet the edge at one level of one tree). Levels are filled from the
    top down by range reads of `tree_nodes`, at most `fill_rows` rows per request; the nodes
    it does not hold (the levels below `lowest_level`, and all of a level not filled yet) are
    read from the database, in the same query as the log head, one query per request.

    Why it is sound: the log is append-only and the hash of a perfect subtree is a function
    of its leaves alone, so a stored node never changes once written: a node read once is
    that node for every tree size that contains it. It could fail only if the database no
    longer held the same log: a restore behind a checkpoint already given out followed by
    other appends (docs/operations.md §7 forbids it), or a rewritten tree. Every request reads
    the log head in its one query, and a head other than the one the cache synced with is
    checked before the proof is returned: larger, the stored subtrees whose fold was the old
    root must be unchanged and those of the new size must fold to the head's root (one read
    of O(log n) nodes per new head); smaller (a reader whose transaction began before the
    cache last synced, or a rollback), the root of that size from the cache must be the
    head's; equal, the roots must be equal. A mismatch empties the cache and the proof is
    made again from the database alone.

    What it does not do: check the stored nodes. A node tampered with before it was read is
    served as stored (the proof fails to verify, as it would without the cache); one changed
    after it was read is not served (the cache keeps what it read), yet is in the database.
    The audit reads `tree_nodes` itself (`find_nodes`, `consistency_proof`), never through
    this cache, so it names either. Provenance, bundles and ingest read their nodes with
    `find_nodes` / `load_nodes`, which do not use the cache either.

    What it costs: at most `budget_bytes` (32 MiB) of hashes, plus ~40 bytes per 1,024 (~48
    per hash of the top 14 levels: < 1.6 MB; NodeLevels) and the tails (< 1,024 x log2 size
    hashes). `lowest_level` is the lowest level from which the whole tree fits in the budget:
    at 1,000,000 entries every level but the leaves (999,993 hashes, 30.5 MiB; the process's
    RSS grew by 43 MB in the benchmark, the allocator's slack from the reads included); at
    each doubling of the log past 2**20 entries one more level is left to the database and
    the cache falls back to half its budget. Warming it at 1M entries reads ~1M rows (~2 s
    here), at most `fill_rows` per request, so over 31 requests. Warm, a proof reads one row
    (its leaf's sibling) with the head. The threads of a process share it (a lock); every
    server process has its own.
    """

    def __init__(
        self, budget_bytes: int = NODE_CACHE_BYTES, fill_rows: int = NODE_CACHE_FILL_ROWS
    ) -> None:
        self.budget_bytes = budget_bytes
        self.fill_rows = fill_rows
        self._lock = threading.Lock()
        self._generation = 0
        self._clear()

    @property
    def size(self) -> int:
        """The tree size of the log head the cache last synced with (0: none)."""
        return self._size

    @property
    def lowest_level(self) -> int:
        """The lowest level it keeps; the levels below are read from the database."""
        return self._levels.low

    @property
    def complete(self) -> bool:
        """Whether it holds every node of the levels it keeps, for the tree of `size`."""
        return self._complete

    @property
    def nbytes(self) -> int:
        """Bytes of node hashes held."""
        return self._levels.nbytes

    def get_node(self, level: int, idx: int) -> bytes:
        """The hash of stored node (level, idx) as held, for the tree of `size`: the cache as a
        merkle.NodeReader (LookupError for a node it does not hold). Proofs look the nodes of
        merkle.inclusion_path up all at once (NodeLevels.path, .find), to the same bytes."""
        with self._lock:
            return self._levels.node(level, idx)

    def warm(self, session: Session) -> None:
        """Sync with the log head and read every node the cache keeps (benchmarks, tests)."""
        head, _ = head_and_nodes(session, ())
        with self._lock:
            if self._sync(session, head):
                while not self._complete and self._fill(session, self.fill_rows):
                    pass

    def inclusion_proofs(
        self, session: Session, indices: Sequence[int], size: int
    ) -> list[list[bytes]]:
        """The inclusion proofs of `indices` in the tree of `size` (<= the head's size)."""
        with self._lock:
            synced = (self._size, self._root)
            generation = self._generation
            pending = [self._start(index, size, True) for index in indices]
        head, found = head_and_nodes(session, _missing(pending))
        if head != synced or not self._complete:  # sync, fill, and check what was read
            with self._lock:
                usable = self._sync(session, head)
                if usable and not self._complete:
                    self._fill(session, self.fill_rows)
                fresh = usable and self._generation == generation
            if not fresh:  # the cache was emptied: everything from the database
                pending = [self._start(index, size, False) for index in indices]
                found = find_nodes(session, _missing(pending))
        return self._finish(pending, found, size, generation)

    def inclusion_proof(self, session: Session, index: int, size: int) -> list[bytes]:
        """`inclusion_proofs` of one leaf, with less bookkeeping when the cache is warm."""
        with self._lock:
            warm = self._complete and 0 <= index < size <= self._size
            synced = (self._size, self._root)
            generation = self._generation
            pending = self._start(index, size, True) if warm else None
        if pending is None:
            return self.inclusion_proofs(session, [index], size)[0]
        head, found = head_and_nodes(session, [node for _, node in pending[1]])
        if head != synced:  # the log moved on: sync first, as inclusion_proofs does
            return self.inclusion_proofs(session, [index], size)[0]
        return self._finish([pending], found, size, generation)[0]

    def _finish(
        self, pending: list[_Pending], found: Mapping[NodeId, bytes], size: int, generation: int
    ) -> list[list[bytes]]:
        proofs: list[list[bytes]] = []
        tails: dict[_TailKey, tuple[bytes, ...]] = {}
        for hashes, misses, edge, count, key in pending:
            for position, node in misses:
                if (digest := found.get(node)) is None:
                    raise LookupError(f"stored tree nodes missing: {[node]}")
                hashes[position] = digest
            proof: list[bytes] = hashes  # type: ignore[assignment]  # no None left
            if count > 1:
                proof = merkle.inclusion_from_hashes(proof, edge, count)
            if key is not None:
                tails[key] = tuple(proof[edge:])
            proofs.append(proof)
        if tails:
            with self._lock:
                if self._generation == generation:
                    if len(self._tails) + len(tails) > _TAILS_KEPT:
                        self._tails.clear()
                    self._tails.update(tails)
        return proofs

    # ---- the rest runs under the lock

    def _clear(self) -> None:
        self._generation += 1
        self._size = 0
        self._root = merkle.EMPTY_ROOT
        self._edge: list[bytes] = []  # the hashes of root_nodes(size), as stored
        self._levels = NodeLevels()
        self._complete = True
        self._tails: dict[_TailKey, tuple[bytes, ...]] = {}

    def _start(self, index: int, size: int, use: bool) -> _Pending:
        """The proof's plan (merkle.inclusion_path) with the hashes the cache holds in place;
        its upper part gives way to the memoised tail of the same (size, len(lower), count)."""
        lower, upper, count = merkle.inclusion_path(index, size)
        edge = len(lower)
        if not use:
            nodes = [*enumerate(lower), *upper]
            return [None] * len(nodes), list(enumerate(nodes)), edge, count, None
        if self._complete and size <= self._size:
            hashes, misses = self._levels.path(lower)
        else:
            hashes, misses = self._levels.find(list(enumerate(lower)))
        key = (size, edge, count)
        tail = self._tails.get(key)
        if tail is not None:
            hashes += tail
            return hashes, misses, edge, 0, None
        more, missing = self._levels.find(upper, edge)
        hashes += more
        misses += missing
        return hashes, misses, edge, count, key

    def _sync(self, session: Session, head: Head) -> bool:
        """Follow the log head; False if the cache cannot be used for this request."""
        size, root = head
        if size == self._size and root == self._root:
            return True
        if size < self._size:
            if self._root_at(session, size) == root:
                return True  # an older snapshot of the same log: what the cache holds fits
            self._clear()
        elif size == self._size:
            self._clear()
        return self._extend(session, size, root)

    def _extend(self, session: Session, size: int, root: bytes) -> bool:
        old, new = merkle.root_nodes(self._size), merkle.root_nodes(size)
        found = find_nodes(session, [*old, *new])
        if [found.get(node) for node in old] != self._edge:
            self._clear()  # the tree the cache holds is no longer a prefix of the log
        if any(node not in found for node in new) or (
            merkle.root_at(size, node_reader(found)) != root
        ):
            self._clear()  # the stored nodes do not give the head's root: use the database
            return False
        self._size, self._root = size, root
        self._edge = [found[node] for node in new]
        self._levels.resize(size.bit_length(), lowest_level(size, self.budget_bytes))
        self._complete = False
        return True

    def _root_at(self, session: Session, size: int) -> bytes | None:
        nodes = merkle.root_nodes(size)
        held = self._levels.lookup(nodes)
        found = find_nodes(session, [n for n, h in zip(nodes, held, strict=True) if h is None])

        def get_node(level: int, idx: int) -> bytes:
            digest = found.get((level, idx))
            return self._levels.node(level, idx) if digest is None else digest

        try:
            return merkle.root_at(size, get_node)
        except LookupError:
            return None

    def _fill(self, session: Session, budget: int) -> int:
        """Read up to `budget` rows of the levels kept, top level first; returns rows kept."""
        kept = 0
        complete = True
        levels = self._levels
        for level in range(levels.top - 1, levels.low - 1, -1):
            have, want = levels.count(level), self._size >> level
            if have >= want:
                continue
            if budget <= 0:
                complete = False
                break
            end = min(want, have + budget)
            rows = node_range(session, level, have, end)
            budget -= end - have
            hashes: list[bytes] = []
            for idx, digest in rows:
                if idx != have + len(hashes) or len(digest) != merkle.HASH_SIZE:
                    break  # a missing or damaged row: the level stops before it
                hashes.append(bytes(digest))
            levels.append(level, hashes)
            kept += len(hashes)
            if have + len(hashes) < want:
                complete = False
        self._complete = complete
        return kept


def _missing(pending: list[_Pending]) -> list[NodeId]:
    return [node for _, misses, _, _, _ in pending for _, node in misses]
