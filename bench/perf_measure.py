"""Measurements that need no server: raw Ed25519 verification, the audit, inclusion proofs."""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlmodel import col

from bench.perf_server import CLI
from ledger.service.audit import PAGE
from ledger.service.audit_pool import CHUNK, worker_pool, worker_precheck
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.entry_log import EntryLog
from ledger.store.tables import EntryRow, KeyRow
from ledger.tlog import merkle
from ledger.tlog.encoding import b64decode
from ledger.tlog.keys import key_id
from ledger.verify.stored import VERIFIED, Prechecked

VERIFY_SECONDS = 2.0


def raw_verify_rate(seconds: float = VERIFY_SECONDS) -> float:
    """Ed25519 verifications per second on one core with pyca/cryptography (OpenSSL).

    Real-sized messages (1 KiB, like a PAE of an event), keys loaded once: the bare primitive.
    """
    rng = random.Random(7)
    signed = []
    for n in range(64):
        key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        message = rng.randbytes(1024) + n.to_bytes(2, "big")
        signed.append((key.public_key(), key.sign(message), message))
    return _rate(lambda: [public.verify(sig, msg) for public, sig, msg in signed], 64, seconds)


def raw_verify_rate_nacl(seconds: float = VERIFY_SECONDS) -> float:
    """The same with libsodium (PyNaCl), for comparison."""
    from nacl.bindings import crypto_sign_open

    rng = random.Random(7)
    signed = []
    for n in range(64):
        key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        message = rng.randbytes(1024) + n.to_bytes(2, "big")
        signed.append((key.public_key().public_bytes_raw(), key.sign(message) + message))
    return _rate(lambda: [crypto_sign_open(sm, pk) for pk, sm in signed], 64, seconds)


def _rate(work: object, per_call: int, seconds: float) -> float:
    assert callable(work)
    work()  # warm up
    calls = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        work()
        calls += 1
    return calls * per_call / elapsed


@dataclass(frozen=True)
class AuditRun:
    entries: int
    seconds: float
    output: str

    @property
    def rate(self) -> float:
        return self.entries / self.seconds


def run_audit(env: dict[str, str], entries: int, jobs: int | None = None) -> AuditRun:
    """`ree-ledger audit` as an operator runs it; wall time includes starting Python."""
    command = [*CLI, "audit"]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"audit failed: {result.stdout}{result.stderr}")
    return AuditRun(entries, seconds, result.stdout.strip())


@dataclass(frozen=True)
class PrecheckRun:
    """Steps (1)–(4) of the audit alone: what the audit verifies in parallel, without the
    sequential replay of custody and the rules (steps 5–10)."""

    entries: int
    seconds: float
    workers: int

    @property
    def rate(self) -> float:
        return self.entries / self.seconds


def run_precheck(url: str, workers: int) -> PrecheckRun:
    """Every entry's envelope, payload, columns and signature checked by `workers` processes,
    as `ree-ledger audit` hands them out (`ledger.service.audit_pool`: pages of rows read in
    this process, chunks of 250 to the pool, the stored keys tried); no replay. Raises unless
    every signature verifies."""
    db = Database(url)
    try:
        with db.snapshot_session() as session:
            stored = session.execute(select(col(KeyRow.keyid), col(KeyRow.public_key)))
            keys = {str(keyid): bytes(public_key) for keyid, public_key in stored}
            operator = b64decode(logstore.read_meta(session)["operator_key"])
            keys[key_id("operator", operator)] = operator
            started = time.perf_counter()
            entries = 0
            with worker_pool(workers, keys) as pool:
                assert pool is not None
                pending: deque[Future[Prechecked]] = deque()
                for page in EntryLog(session).pages(PAGE):
                    for at in range(0, len(page), CHUNK):
                        pending.append(pool.submit(worker_precheck, page[at : at + CHUNK]))
                    while len(pending) > 4 * workers:
                        entries += _verified(pending.popleft().result())
                while pending:
                    entries += _verified(pending.popleft().result())
            seconds = time.perf_counter() - started
    finally:
        db.dispose()
    return PrecheckRun(entries, seconds, workers)


def _verified(found: Prechecked) -> int:
    if found.verdicts.count(VERIFIED) != len(found.verdicts):
        raise RuntimeError(f"steps (1)–(4) failed: {found.failures or found.verdicts!r}")
    return len(found.verdicts)


@dataclass(frozen=True)
class Proofs:
    """Inclusion proofs/s at the full size, ours and pymerkle's, on the same random leaves.

    Ours are made in this process on one read session of the SQLite database (no HTTP), in
    this order: a fresh node cache (`ledger.store.log.NodeCache`, new engine), cold, then warm.
    """

    size: int
    count: int  # proofs timed in each figure, on the same random leaves
    ours_single: float  # one proof per call (the read of GET /v1/proofs/inclusion), cache warm
    ours_batched: float  # 100 proofs per call (logstore.inclusion_proofs), cache warm
    ours_cold: float  # one proof per call, the first `count` of a fresh cache, warming included
    per_request: float  # queries.inclusion_proof: a read session per proof, cache warm
    uncached_single: float  # no cache: the stored nodes of each proof read in one query
    uncached_batched: float  # no cache: 100 proofs from one read (as provenance, bundles do)
    pymerkle: float  # proofs/s, pymerkle 7 InmemoryTree over the same leaves
    pymerkle_build_s: float
    checked: int  # proofs compared hash by hash with pymerkle's
    cache_mib: float  # node hashes the warm cache holds
    cache_rss_mb: float  # growth of this process's VmRSS while the cache warmed
    cache_lowest_level: int  # levels below it are read from the database
    warmed_after: int  # proofs the cold run had made when the cache became complete (0: never)


ROUNDS = 10  # the warm figures and pymerkle's are timed in turn, a tenth of the leaves at a time


def inclusion_proofs(database_url: str, count: int, seed: int = 3) -> Proofs:
    """Our proofs, with and without the node cache, against pymerkle 7 on the same leaves.

    First the cold run, on a new engine (so a new, empty node cache): each proof request
    reads at most NODE_CACHE_FILL_ROWS more rows into the cache, top levels first; then
    `NodeCache.warm` reads whatever is left. pymerkle's tree is built next. Then every warm
    figure and pymerkle's are timed in ROUNDS rounds over the same leaves, a slice of them
    per round, in an order that rotates from round to round, so that a change in the load
    of this shared machine weighs on all of them alike; each rate is proofs / summed time.
    """
    from pymerkle import InmemoryTree

    from ledger.service import queries

    db = Database(database_url)
    try:
        with db.read_session() as session:
            size = logstore.current_size(session)
            rng = random.Random(seed)
            indices = [rng.randrange(size) for _ in range(count)]
            cache = logstore.node_cache(session)
            rss_before = _rss_mb()
            warmed_after = 0
            started = time.perf_counter()
            for done, index in enumerate(indices, start=1):
                logstore.inclusion_proof(session, index, size)
                if not warmed_after and cache.complete and cache.size == size:
                    warmed_after = done
            cold = count / (time.perf_counter() - started)
            cache.warm(session)
            rss_growth = _rss_mb() - rss_before
            tree = InmemoryTree(algorithm="sha256")
            started = time.perf_counter()
            for envelope in _envelopes(session):
                tree.append_entry(envelope)
            build = time.perf_counter() - started
            ours: dict[int, list[bytes]] = {}
            batched: dict[int, list[bytes]] = {}
            uncached: dict[int, list[bytes]] = {}
            theirs: dict[int, Any] = {}

            def single(part: list[int]) -> None:
                for index in part:
                    ours[index] = logstore.inclusion_proof(session, index, size)

            def hundred(part: list[int]) -> None:
                for first in range(0, len(part), 100):
                    chunk = part[first : first + 100]
                    proofs = logstore.inclusion_proofs(session, chunk, size)
                    batched.update(zip(chunk, proofs, strict=True))

            def single_uncached(part: list[int]) -> None:
                for index in part:
                    found = logstore.load_nodes(session, merkle.inclusion_nodes(index, size))
                    proof = merkle.inclusion_proof(index, size, logstore.node_reader(found))
                    uncached[index] = proof

            def hundred_uncached(part: list[int]) -> None:
                for first in range(0, len(part), 100):
                    _proofs_from_one_read(session, part[first : first + 100], size)

            def per_request(part: list[int]) -> None:
                for index in part:
                    queries.inclusion_proof(db, index, size)

            def pymerkle(part: list[int]) -> None:
                for index in part:
                    theirs[index] = tree.prove_inclusion(index + 1, size)

            timed = [single, hundred, single_uncached, hundred_uncached, per_request, pymerkle]
            seconds = {work.__name__: 0.0 for work in timed}
            step = -(-count // ROUNDS)
            for turn, first in enumerate(range(0, count, step)):
                part = indices[first : first + step]
                for work in timed[turn % len(timed) :] + timed[: turn % len(timed)]:
                    started = time.perf_counter()
                    work(part)
                    seconds[work.__name__] += time.perf_counter() - started
    finally:
        db.dispose()
    rate = {name: count / spent for name, spent in seconds.items()}
    checked = 0
    for index in indices[:200]:
        # pymerkle's path starts with the leaf itself; the rest is the RFC 9162 proof.
        if list(theirs[index].path[1:]) != ours[index]:
            raise RuntimeError(f"proof of leaf {index} differs from pymerkle's")
        if not batched[index] == uncached[index] == ours[index]:
            raise RuntimeError(f"proofs of leaf {index} differ with and without the cache")
        checked += 1
    return Proofs(
        size=size,
        count=count,
        ours_single=rate["single"],
        ours_batched=rate["hundred"],
        ours_cold=cold,
        per_request=rate["per_request"],
        uncached_single=rate["single_uncached"],
        uncached_batched=rate["hundred_uncached"],
        pymerkle=rate["pymerkle"],
        pymerkle_build_s=build,
        checked=checked,
        cache_mib=cache.nbytes / 2**20,
        cache_rss_mb=rss_growth,
        cache_lowest_level=cache.lowest_level,
        warmed_after=warmed_after,
    )


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _proofs_from_one_read(session: object, indices: list[int], size: int) -> list[list[bytes]]:
    from sqlmodel import Session

    assert isinstance(session, Session)
    wanted = {node for index in indices for node in merkle.inclusion_nodes(index, size)}
    nodes = logstore.load_nodes(session, wanted)
    get_node = logstore.node_reader(nodes)
    return [merkle.inclusion_proof(index, size, get_node) for index in indices]


def _envelopes(session: object) -> object:
    from sqlmodel import Session

    assert isinstance(session, Session)
    after = -1
    while True:
        rows = session.execute(
            select(col(EntryRow.idx), col(EntryRow.envelope))
            .where(col(EntryRow.idx) > after)
            .order_by(col(EntryRow.idx))
            .limit(20_000)
        ).all()
        if not rows:
            return
        for _, envelope in rows:
            yield bytes(envelope)
        after = int(rows[-1][0])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def cores() -> int:
    return len(os.sched_getaffinity(0))
