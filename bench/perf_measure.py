"""Measurements that need no server: raw Ed25519 verification, the audit, inclusion proofs."""

from __future__ import annotations

import os
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlmodel import col

from bench.perf_server import CLI
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.tables import EntryRow
from ledger.tlog import merkle

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
class Proofs:
    size: int
    ours_single: float  # proofs/s, one stored-node read per proof (GET /v1/proofs/inclusion)
    ours_batched: float  # proofs/s, proofs for 100 entries from one read (provenance, bundle)
    pymerkle: float  # proofs/s, pymerkle 7 InmemoryTree over the same leaves
    pymerkle_build_s: float
    checked: int  # proofs compared hash by hash with pymerkle's


def inclusion_proofs(database_url: str, count: int, seed: int = 3) -> Proofs:
    """Our proofs from the stored subtree hashes against pymerkle 7 on the same leaves."""
    from pymerkle import InmemoryTree

    db = Database(database_url)
    try:
        with db.read_session() as session:
            size = logstore.current_size(session)
            rng = random.Random(seed)
            indices = [rng.randrange(size) for _ in range(count)]
            ours = {}
            started = time.perf_counter()
            for index in indices:
                ours[index] = logstore.inclusion_proof(session, index, size)
            single = count / (time.perf_counter() - started)
            started = time.perf_counter()
            for first in range(0, count, 100):
                _proofs_from_one_read(session, indices[first : first + 100], size)
            batched = count / (time.perf_counter() - started)
            tree = InmemoryTree(algorithm="sha256")
            started = time.perf_counter()
            for envelope in _envelopes(session):
                tree.append_entry(envelope)
            build = time.perf_counter() - started
    finally:
        db.dispose()
    started = time.perf_counter()
    theirs = {index: tree.prove_inclusion(index + 1, size) for index in indices}
    rate = count / (time.perf_counter() - started)
    checked = 0
    for index in indices[:200]:
        # pymerkle's path starts with the leaf itself; the rest is the RFC 9162 proof.
        if list(theirs[index].path[1:]) != ours[index]:
            raise RuntimeError(f"proof of leaf {index} differs from pymerkle's")
        checked += 1
    return Proofs(size, single, batched, rate, build, checked)


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
