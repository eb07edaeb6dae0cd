"""The audit's worker processes: what each entry needs checked on its own, ahead of the replay.

Steps (1)–(3) of an entry depend on its row alone, and (4)'s arithmetic on its row and one
public key. `LogAuditor.entry_prechecked` replays an entry given what `precheck` found, so
the workers take whole pages of rows a little ahead of the replay (`prechecked_pages`), and
the replay in this process is left with the key lookup of (4), the custody replay (5), the
rules, the tree (6)–(7) and the page's table checks. The workers send back one verdict
byte per entry, the events (pickled: they read back in a third of parse_event's time) and
the failures.

The workers try the key the stored `participant_keys` table (or the operator key) gives
each keyid: a guess, taken only where the replay's step (4) names that very key. Any other
signature (a key the table does not hold or holds wrongly) is deferred, in chunks, to the
same pool (`PageSignatures`), and judged before the page is.

The first INLINE entries are not handed out: the replay checks them entry by entry itself
(signatures with libsodium, in this process) while the workers start, which takes about as
long; the rest of the first page goes to the workers first.
"""

import functools
import multiprocessing
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, NamedTuple

from ledger.runtime import settle_collector
from ledger.verify.log import LogAuditor
from ledger.verify.signatures import failed_signatures
from ledger.verify.stored import Coupled, Prechecked, Row, precheck, precheck_coupled

# Entries per task of the pool, and pages handed to it ahead of the replay.
CHUNK = 250
LOOKAHEAD = 2
# Entries at the start of the log that the replay checks itself while the workers start.
INLINE = 1000
# Deferred signatures per task of the pool.
SIGNATURE_CHUNK = 250


class Chunk(NamedTuple):
    """Consecutive rows of a page and what the workers found about them (None: the replay
    checks the rows itself): a Prechecked, or what the task given to `prechecked_pages` gives."""

    rows: list[Row]
    found: "Future[Any] | None"


@contextmanager
def worker_pool(workers: int, keys: Mapping[str, bytes]) -> Iterator[Executor | None]:
    """`workers` processes (None for none) that try `keys` on the signatures; on a failure,
    work not yet started is dropped."""
    if workers < 1:
        yield None
        return
    pool = ProcessPoolExecutor(
        workers, mp_context=worker_context(), initializer=_start_worker, initargs=(dict(keys),)
    )
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# The keys a worker process tries on the signatures, set once when it starts.
_KEYS: dict[str, bytes] = {}


def _start_worker(keys: Mapping[str, bytes]) -> None:
    settle_collector()
    _KEYS.clear()
    _KEYS.update(keys)


def worker_precheck(rows: list[Row]) -> Prechecked:
    """`precheck` in a worker of `worker_pool`, with the keys the worker was started with."""
    return precheck(rows, _KEYS)


def worker_precheck_coupled(rows: list[Row]) -> Coupled:
    """`precheck_coupled` in a worker of `worker_pool`, likewise."""
    return precheck_coupled(rows, _KEYS)


def worker_context() -> multiprocessing.context.BaseContext:
    """How the workers start: never forked from this process (they need nothing of it, least
    of all its database connection).

    A fork server, where there is one, imports what the workers run once, in a fresh process,
    and forks each worker from it ready to run (and the workers of later audits in this
    process too). A started worker still imports this process's main module (as spawned ones
    do): the server imports the command line's module first, which the `ree-ledger` script's
    main module imports. Without a fork server, each worker is a fresh interpreter that
    imports everything itself.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    preload = [*_WORKER_MODULES, *(name for name in _MAIN_MODULES if name in sys.modules)]
    # Heeded when the server starts, which is at the first audit of this process.
    context.set_forkserver_preload(preload)
    return context


# What the workers run (this module's `worker_precheck`, `precheck` and the signatures; the
# partitioned replay's parts), and the command line's module, which the `ree-ledger` script
# imports.
_WORKER_MODULES = [
    __name__,
    "ledger.verify.stored",
    "ledger.verify.signatures",
    "ledger.service.audit_partition",
]
_MAIN_MODULES = ["ledger.cli.main"]


def prechecked_pages(
    pool: Executor,
    pages: Iterator[list[Row]],
    task: Callable[[list[Row]], object] = worker_precheck,
) -> Iterator[list[Chunk]]:
    """The pages in order, as chunks whose rows the workers precheck (`task`: by default
    `worker_precheck`), LOOKAHEAD pages ahead of the caller's replay. The first page's first
    INLINE rows come back unchecked, for the caller to check itself while the workers start
    (starting them takes about as long); its other rows are the workers' first tasks.

    The tasks of the first pages are submitted from a thread: the first submission starts
    the workers and waits until they are up, which the caller's replay need not wait for.
    """
    window: deque[list[Chunk]] = deque()

    def chunked(page: list[Row]) -> list[Chunk]:
        starts = range(0, len(page), CHUNK)
        return [
            Chunk(page[at : at + CHUNK], pool.submit(task, page[at : at + CHUNK])) for at in starts
        ]

    def hand_out() -> None:
        page = next(pages, None)
        if page is not None:
            window.append(chunked(page))

    first = next(pages, None)
    if first is None:
        return
    # The pages are read here (the session is this thread's); only the submitting is not.
    early = [
        first[INLINE:],
        *(page for page in (next(pages, None) for _ in range(LOOKAHEAD)) if page),
    ]
    tasks: list[tuple[list[Row], Future[Any]]] = []
    pending: list[list[Chunk]] = []
    for page in early:
        chunks = []
        for at in range(0, len(page), CHUNK):
            rows: list[Row] = page[at : at + CHUNK]
            found: Future[Any] = Future()
            tasks.append((rows, found))
            chunks.append(Chunk(rows, found))
        pending.append(chunks)
    starter = threading.Thread(target=_submit_all, args=(pool, task, tasks), daemon=True)
    starter.start()
    window.extend(pending[1:])
    try:
        yield [Chunk(first[:INLINE], None), *pending[0]]
        starter.join()
        while window:
            ready = window.popleft()
            hand_out()
            yield ready
    finally:
        starter.join()


def _submit_all(
    pool: Executor,
    task: Callable[[list[Row]], object],
    tasks: list[tuple[list[Row], "Future[Any]"]],
) -> None:
    """Submit `task` of each task's rows to `pool`, each result (or exception) passed on to
    the task's own future."""
    for rows, found in tasks:
        try:
            submitted = pool.submit(task, rows)
        except BaseException as exc:  # the pool is shut down: the replay has stopped
            found.set_exception(exc)
            continue
        submitted.add_done_callback(functools.partial(_pass_on, found))


def _pass_on(found: "Future[Any]", done: "Future[Any]") -> None:
    try:
        found.set_result(done.result())
    except BaseException as exc:  # cancelled, or the pool broke: the replay meets it
        found.set_exception(exc)


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
