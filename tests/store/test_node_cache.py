"""The node cache: proofs through it equal proofs from the stored nodes, on both backends,
as the log grows, when it is not the log the cache holds, and within its memory budget."""

from __future__ import annotations

import gc
import random
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import text

from ledger.store import log as logstore
from ledger.store import node_levels, nodes
from ledger.store.engine import Database
from ledger.store.entry_log import EntryLog
from ledger.tlog import merkle, merkle_verify

HASH = merkle.HASH_SIZE


class Log:
    """A log of synthetic leaves written straight into tree_nodes and log_head."""

    def __init__(self, db: Database, tag: str = "a") -> None:
        self.db = db
        self.tag = tag
        self.tree = merkle.CompactRange()
        self.leaves: list[bytes] = []

    def append(self, count: int) -> None:
        nodes = []
        for _ in range(count):
            leaf = merkle.leaf_hash(f"{self.tag}-{len(self.leaves)}".encode())
            self.leaves.append(leaf)
            nodes += self.tree.append(leaf)
        with self.db.write_session() as session:
            head = logstore.lock_head(session)
            EntryLog(session).append([], [], nodes)
            head.size, head.root = self.tree.size, self.tree.root()
            session.commit()

    def rewrite(self, tag: str, size: int) -> None:
        """Replace the whole log by another one of `size` leaves (a restore gone wrong)."""
        with self.db.write_session() as session:
            session.execute(text("DELETE FROM tree_nodes"))
            head = logstore.lock_head(session)
            head.size, head.root = 0, merkle.EMPTY_ROOT
            session.commit()
        self.tag, self.tree, self.leaves = tag, merkle.CompactRange(), []
        self.append(size)

    def root(self, size: int) -> bytes:
        return merkle.root_from_leaves(self.leaves[:size])


@pytest.fixture(params=[14, 2], ids=["top-14-listed", "top-2-listed"])
def listed_bits(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The top levels the cache keeps a bytes object per hash for, the others joined in
    chunks: with 2, the trees here have both, and levels move from one to the other as they
    grow. The default, 14, lists every level of them."""
    monkeypatch.setattr(node_levels, "_LISTED_BITS", request.param)
    return int(request.param)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        database.dispose()


def _uncached(session: Any, index: int, size: int) -> list[bytes]:
    """The inclusion proof from the stored nodes alone, read in one query."""
    found = nodes.load_nodes(session, merkle.inclusion_nodes(index, size))
    return merkle.inclusion_proof(index, size, nodes.node_reader(found))


def _from_database(session: Any, indices: Sequence[int], size: int) -> list[list[bytes]]:
    return [_uncached(session, index, size) for index in indices]


def _check(log: Log, cache: logstore.NodeCache, size: int, indices: Sequence[int]) -> None:
    with log.db.read_session() as session:
        got = cache.inclusion_proofs(session, indices, size)
        assert got == _from_database(session, indices, size)
    root = log.root(size)
    for index, proof in zip(indices, got, strict=True):
        merkle_verify.verify_inclusion(index, size, log.leaves[index], proof, root)


def test_cached_proofs_equal_stored_ones_as_the_log_grows(db: Database, listed_bits: int) -> None:
    log = Log(db)
    # A small budget (the top levels of a ~100-leaf tree) and small fills: every request
    # finds the cache partly filled, some levels left to the database, a memoised right edge.
    cache = logstore.NodeCache(budget_bytes=40 * HASH, fill_rows=7)
    rng = random.Random(1)
    for step in (1, 1, 2, 5, 9, 16, 31, 64, 3, 100):
        log.append(step)
        size = log.tree.size
        _check(log, cache, size, range(size))  # every leaf, at the head's size
        older = rng.randrange(1, size + 1)
        _check(log, cache, older, [rng.randrange(older) for _ in range(10)])
        assert cache.size == size
        assert cache.nbytes <= cache.budget_bytes
    assert cache.lowest_level > 0


def test_a_cache_of_size_n_serves_the_larger_tree_after_appends(db: Database) -> None:
    log = Log(db)
    log.append(300)
    cache = logstore.NodeCache()
    with db.read_session() as session:
        cache.warm(session)
    assert (cache.size, cache.complete, cache.lowest_level) == (300, True, 0)
    log.append(157)
    _check(log, cache, 457, range(457))
    with db.read_session() as session:
        cache.warm(session)
    assert (cache.size, cache.complete) == (457, True)
    _check(log, cache, 457, range(0, 457, 7))
    _check(log, cache, 300, range(0, 300, 11))


def test_the_module_functions_use_one_cache_per_database(db: Database) -> None:
    log = Log(db)
    log.append(77)
    with db.read_session() as session:
        assert logstore.inclusion_proof(session, 5, 77) == _uncached(session, 5, 77)
        assert logstore.inclusion_proofs(session, [0, 59, 40], 60) == _from_database(
            session, [0, 59, 40], 60
        )
        cache = logstore.node_cache(session)
        with pytest.raises(LookupError, match="missing"):
            logstore.inclusion_proof(session, 0, 78)  # beyond the log, as without the cache
    with db.read_session() as session:
        assert logstore.node_cache(session) is cache
    assert cache.size == 77
    other = Database(db.url)  # another engine: another cache, as in another process
    try:
        with other.read_session() as session:
            assert logstore.node_cache(session) is not cache
            got = logstore.inclusion_proof(session, 5, 77)
            assert got == _uncached(session, 5, 77)
    finally:
        other.dispose()


def test_the_warm_lookups_equal_merkle_reading_the_cache_as_a_node_reader(
    db: Database, listed_bits: int
) -> None:
    """The warm path (merkle's inclusion_path, then the lookups, memoised tails) gives the
    proof merkle.inclusion_proof gives reading the cache through get_node (a NodeReader)."""
    log = Log(db)
    log.append(333)
    cache = logstore.NodeCache()
    with db.read_session() as session:
        cache.warm(session)
        assert (cache.complete, cache.lowest_level) == (True, 0)
        for size in (333, 332, 256, 200, 1):
            for rounds in range(2):  # the second round finds the tails memoised
                proofs = cache.inclusion_proofs(session, range(size), size)
                for index, proof in enumerate(proofs):
                    assert proof == merkle.inclusion_proof(index, size, cache.get_node), rounds
        assert cache.get_node(8, 0) == merkle.root_from_leaves(log.leaves[:256])
        with pytest.raises(LookupError, match="not held"):
            cache.get_node(0, 333)  # beyond the tree it holds


def test_a_warm_cache_reads_only_the_head_and_the_levels_it_does_not_keep(
    db: Database, monkeypatch: pytest.MonkeyPatch, listed_bits: int
) -> None:
    log = Log(db)
    log.append(1000)
    # Room for every level but the leaves: a proof reads its leaf's sibling, and the head.
    cache = logstore.NodeCache(budget_bytes=1000 * HASH)
    with db.read_session() as session:
        cache.warm(session)
        assert cache.lowest_level == 1
        queries: list[Sequence[int]] = []
        real = nodes.driver_rows

        def counting(session: Any, sql: str, params: Sequence[int]) -> Sequence[Any]:
            queries.append(list(params))
            return real(session, sql, params)

        monkeypatch.setattr(nodes, "driver_rows", counting)
        for index in (0, 1, 500, 998, 999):
            [proof] = cache.inclusion_proofs(session, [index], 1000)
            assert proof == _uncached(session, index, 1000)
        del queries[1::2]  # _uncached's own reads
        # One query each: the head row and the leaf-level sibling (none for the last leaf).
        assert queries == [
            [logstore.HEAD_ROW_ID, 0, 1],
            [logstore.HEAD_ROW_ID, 0, 0],
            [logstore.HEAD_ROW_ID, 0, 501],
            [logstore.HEAD_ROW_ID, 0, 999],
            [logstore.HEAD_ROW_ID, 0, 998],
        ]


@pytest.mark.parametrize(
    ("new_size", "why"),
    [(250, "a larger log"), (120, "a smaller log"), (200, "same size, other root")],
)
def test_the_cache_is_emptied_when_the_database_holds_another_log(
    db: Database, new_size: int, why: str
) -> None:
    log = Log(db)
    log.append(200)
    cache = logstore.NodeCache()
    with db.read_session() as session:
        cache.warm(session)
    log.rewrite("b", new_size)  # what a restore followed by other appends would leave
    _check(log, cache, new_size, range(new_size))
    assert cache.size == new_size, why


def test_a_reader_with_an_older_snapshot_gets_proofs_of_its_own_tree(db: Database) -> None:
    log = Log(db)
    log.append(100)
    cache = logstore.NodeCache()
    with db.snapshot_session() as old:
        assert logstore.current_size(old) == 100  # its snapshot begins here
        log.append(60)
        with db.read_session() as session:
            cache.warm(session)
        assert cache.size == 160
        got = cache.inclusion_proofs(old, range(100), 100)
        assert got == _from_database(old, range(100), 100)
    assert cache.size == 160  # an older head is no reason to empty it


def test_a_node_changed_after_it_was_cached_is_still_read_from_the_database(
    db: Database,
) -> None:
    log = Log(db)
    log.append(64)
    cache = logstore.NodeCache()
    with db.read_session() as session:
        cache.warm(session)
    with db.write_session() as session:
        session.execute(
            text("UPDATE tree_nodes SET hash = :h WHERE level = 1 AND idx = 2"), {"h": bytes(HASH)}
        )
        session.commit()
    with db.read_session() as session:
        # The proof is the one of the log (the node was read before it was changed) ...
        [proof] = cache.inclusion_proofs(session, [6], 64)
        merkle_verify.verify_inclusion(6, 64, log.leaves[6], proof, log.root(64))
        # ... and the audit's reader, find_nodes, sees the database as it is.
        assert logstore.find_nodes(session, [(1, 2)]) == {(1, 2): bytes(HASH)}


def test_a_missing_node_stops_the_fill_and_fails_only_the_proofs_that_need_it(
    db: Database,
) -> None:
    log = Log(db)
    log.append(64)
    with db.write_session() as session:
        session.execute(text("DELETE FROM tree_nodes WHERE level = 2 AND idx = 5"))
        session.commit()
    cache = logstore.NodeCache()
    with db.read_session() as session:
        cache.warm(session)
        assert not cache.complete
        with pytest.raises(LookupError, match="missing"):
            cache.inclusion_proofs(session, [17], 64)  # its sibling at level 2 is (2, 5)
        _check(log, cache, 64, [0, 30, 63])


def test_memory_stays_within_the_budget_as_the_log_grows(db: Database, listed_bits: int) -> None:
    log = Log(db)
    cache = logstore.NodeCache(budget_bytes=256 * HASH, fill_rows=1 << 20)
    for size, lowest in ((100, 0), (129, 0), (130, 1), (256, 1), (300, 2), (600, 3)):
        log.append(size - log.tree.size)
        with db.read_session() as session:
            cache.warm(session)
        assert cache.lowest_level == lowest, size
        assert cache.nbytes == sum(size >> level for level in range(lowest, 10)) * HASH
        assert cache.nbytes <= cache.budget_bytes
    _check(log, cache, 600, range(600))


def test_threads_share_one_cache_while_the_log_grows(db: Database) -> None:
    log = Log(db)
    log.append(50)
    cache = logstore.NodeCache(fill_rows=16)
    errors: list[BaseException] = []

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(30):
                with db.read_session() as session:
                    size = logstore.current_size(session)
                    indices = [rng.randrange(size) for _ in range(5)]
                    got = cache.inclusion_proofs(session, indices, size)
                    assert got == _from_database(session, indices, size)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(10):
        log.append(17)
    for thread in threads:
        thread.join()
    assert not errors, errors


@pytest.mark.parametrize("listed", [14, 3, 0])
def test_node_levels_hold_what_was_appended_in_chunks_and_lists(
    monkeypatch: pytest.MonkeyPatch, listed: int
) -> None:
    """NodeLevels' lookups (lookup, find, its fast path `path`, node) against a plain dict of
    what was appended, over chunk boundaries and as levels pass from listed to joined."""
    monkeypatch.setattr(node_levels, "_LISTED_BITS", listed)
    rng = random.Random(listed)
    levels, plain = node_levels.NodeLevels(), {}
    for size in (700, 2100, 2600, 5000):
        low = 1 if size > 3000 else 0
        levels.resize(size.bit_length(), low)
        assert levels.split == max(low, size.bit_length() - listed)
        plain = {node: h for node, h in plain.items() if node[0] >= low}
        for level in range(low, size.bit_length()):
            have = levels.count(level)
            while have < size >> level:  # in uneven pieces, across the 1,024-hash chunks
                count = min(rng.randrange(1, 900), (size >> level) - have)
                more = [rng.randbytes(HASH) for _ in range(count)]
                levels.append(level, more)
                plain.update({(level, have + at): h for at, h in enumerate(more)})
                have += len(more)
        assert levels.nbytes == len(plain) * HASH
        ids = [*plain, (0, size), (low - 1, 0)]
        assert levels.lookup(ids) == [plain.get(node) for node in ids]
        for index in rng.sample(range(size), 50):
            lower, upper, _ = merkle.inclusion_path(index, size)
            hashes, misses = levels.path(lower)
            nodes = list(enumerate(lower))
            assert hashes == [plain.get(node) for node in nodes]
            assert misses == [(at, node) for at, node in enumerate(nodes) if node[0] < low]
            assert levels.find(nodes) == (hashes, misses)
            hashes, misses = levels.find(upper, 7)
            assert hashes == [plain.get(node) for node in upper]
            assert misses == [(7 + at, node) for at, node in enumerate(upper) if node[0] < low]
        assert levels.node(low, 3) == plain[(low, 3)]
    levels.resize(8, 1)  # fewer levels than held (not done by the cache): more of them listed
    assert levels.split == max(1, 8 - listed)
    assert levels.lookup(list(plain)) == list(plain.values())


def test_a_proof_request_leaves_no_garbage_cycle(db: Database) -> None:
    """The driver connection a session keeps (store.bulk.driver_rows) holds its transaction
    weakly: a read session, with its proof, is freed by reference counting alone."""
    log = Log(db)
    log.append(40)
    gc.collect()
    gc.disable()
    try:
        with db.read_session() as session:
            size = logstore.current_size(session)
            assert logstore.inclusion_proof(session, 7, size) == _uncached(session, 7, size)
            freed = weakref.ref(session)
        del session
        assert freed() is None
    finally:
        gc.enable()
