"""The audit's worker processes: what each entry needs checked on its own, ahead of the replay.

Steps (1)–(3) of an entry depend on its row alone, and (4)'s arithmetic on its row and one
public key. `LogAuditor.entry_prechecked` replays an entry given what `precheck` found, so
the workers take whole pages of rows a little ahead of the replay (`prechecked_pages`), and
the replay in this process is left with the key lookup of (4), the custody replay (5), the
rules, the tree (6)–(7) and the page's table checks. The workers send back one verdict
byte per entry, the payloads and the failures; the replay reads the event from the payload
itself (pydantic's JSON parser), which costs less than receiving it pickled.

The workers try the key the stored `participant_keys` table (or the operator key) gives
each keyid: a guess, taken only where the replay's step (4) names that very key. Any other
signature (a key the table does not hold or holds wrongly) is deferred, in chunks, to the
same pool (`PageSignatures`), and judged before the page is.

The first page is not handed out: the replay checks it entry by entry itself (signatures
with libsodium, in this process) while the workers start, which takes about as long.
"""

import multiprocessing
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import NamedTuple

from ledger.verify.log import LogAuditor, Prechecked, Row, precheck, use_keys
from ledger.verify.signatures import failed_signatures

# Entries per task of the pool, and pages handed to it ahead of the replay.
CHUNK = 250
LOOKAHEAD = 2
# Deferred signatures per task of the pool.
SIGNATURE_CHUNK = 250


class Chunk(NamedTuple):
    """Consecutive rows of a page and what the workers found about them (None: the replay
    checks the rows itself)."""

    rows: list[Row]
    found: "Future[Prechecked] | None"


@contextmanager
def worker_pool(workers: int, keys: Mapping[str, bytes]) -> Iterator[Executor | None]:
    """`workers` processes (None for none) that try `keys` on the signatures; on a failure,
    work not yet started is dropped."""
    if workers < 1:
        yield None
        return
    # spawn: the workers need nothing of this process, least of all its database connection.
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=use_keys,
        initargs=(dict(keys),),
    )
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def prechecked_pages(pool: Executor, pages: Iterator[list[Row]]) -> Iterator[list[Chunk]]:
    """The pages in order, as chunks whose rows the workers precheck, LOOKAHEAD pages ahead
    of the caller's replay. The first page comes back unchecked, for the caller to check
    itself while the workers start (spawning and importing take longer than its replay)."""
    window: deque[list[Chunk]] = deque()

    def hand_out() -> None:
        page = next(pages, None)
        if page is not None:
            starts = range(0, len(page), CHUNK)
            chunks = [page[start : start + CHUNK] for start in starts]
            window.append([Chunk(rows, pool.submit(precheck, rows)) for rows in chunks])

    first = next(pages, None)
    if first is None:
        return
    for _ in range(LOOKAHEAD):
        hand_out()
    yield [Chunk(first, None)]
    while window:
        page = window.popleft()
        hand_out()
        yield page


def inline_pages(pages: Iterator[list[Row]]) -> Iterator[list[Chunk]]:
    """The pages as one chunk each, unchecked: the replay checks everything itself."""
    for page in pages:
        yield [Chunk(page, None)]


class PageSignatures:
    """The deferred signatures of one page: sent to the pool in chunks, settled at the end of
    the page, or up to an entry that failed (an earlier bad signature is the first failure)."""

    def __init__(self, auditor: LogAuditor, pool: Executor | None) -> None:
        self.auditor = auditor
        self.pool = pool
        self.futures: list[Future[list[int]]] = []

    def submit(self) -> None:
        if self.pool is not None and self.auditor.deferred:
            self.futures.append(self.pool.submit(failed_signatures, self.auditor.deferred))
        self.auditor.deferred = []

    def settle(self, through: int | None = None) -> None:
        self.submit()
        failed = [index for future in self.futures for index in future.result()]
        self.futures = []
        self.auditor.settle_signatures(failed, through)
