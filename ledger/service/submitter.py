"""The log's side of c2sp.org/tlog-witness: submit the newest checkpoint to every witness, in
the background, and store the cosignatures they answer with.

Off the write path: a write signs its checkpoint and returns; a thread of the serving process
wakes every `interval` seconds, and when the log has a checkpoint a witness has not cosigned,
sends it the newest one (batching, as transparency logs do: the checkpoints in between are
never sent) with the consistency proof from the size the witness last cosigned. A 409 names
the witness's size: the checkpoint goes again with a proof from there. A witness that fails
waits longer each time (up to `MAX_BACKOFF_S`). One round sends one checkpoint to every
witness, so that they cosign the same one and a quorum forms.

One submitter per database: the processes serving it take a lease (`witness_lease`) in turn.
Two submitters at once (a lease expired under a paused process) are harmless: a witness
refuses what is stale with 409, and a cosignature stored twice is kept once.
"""

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from ledger.service.witness_client import REQUEST_TIMEOUT_S, Outcome, submit
from ledger.service.witnesses import Witness, WitnessConfig, read_config
from ledger.store import log as logstore
from ledger.store import witnesses as witnessstore
from ledger.store.engine import Database

LOG = logging.getLogger("ree_ledger.witness")

LEASE_TTL_MS = 30_000
MAX_BACKOFF_S = 60.0
# Submissions under way at once; one per witness, so a slow witness holds only its own.
MAX_PARALLEL = 8


@dataclass
class _Standing:
    """What the submitter knows of one witness: its last cosigned size, when to try again."""

    size: int
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class Submitter:
    db: Database
    interval: float = 1.0
    clock: Callable[[], float] = time.monotonic
    holder: str = field(
        default_factory=lambda: f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    )
    standings: dict[str, _Standing] = field(default_factory=dict)
    lease_until_ms: int = 0
    # A submission still under way (to whom, of which size), by witness key: a slow witness
    # holds only its own.
    in_flight: dict[str, tuple[Witness, int, Future[Outcome]]] = field(default_factory=dict)

    # --- the loop ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Submit until `stop` is set; no failure ends the loop (each one is logged)."""
        with (
            httpx.Client(timeout=REQUEST_TIMEOUT_S) as client,
            ThreadPoolExecutor(max_workers=MAX_PARALLEL, thread_name_prefix="witness") as pool,
        ):
            while not stop.wait(self.interval):
                try:
                    self.round(client, pool)
                except (SQLAlchemyError, OSError) as exc:
                    LOG.warning("witness submitter: %s", exc)
            pool.shutdown(wait=True, cancel_futures=True)
            self.collect()
        self._release()

    def round(self, client: httpx.Client, pool: Executor) -> None:
        """One pass: record what came back, then send the newest checkpoint to every witness
        that has not cosigned it, is not waiting out a failure and has nothing under way."""
        self.collect()
        with self.db.read_session() as session:
            current = read_config(session)
            if not current.witnesses or not self._hold_lease(session):
                return
            row = logstore.latest_checkpoint(session)
            if row is None:
                return
            due = self._due(session, current, row.size)
            proofs = {
                old: logstore.consistency_proof(session, old, row.size)
                for old in {self.standings[w.vkey].size for w in due}
                if 0 < old < row.size
            }
            note, size = row.note, row.size
        for witness in due:
            future = pool.submit(self._submit, client, witness, note, size, proofs)
            self.in_flight[witness.vkey] = (witness, size, future)

    def collect(self) -> list[Outcome]:
        """Record the submissions that have finished; return their outcomes."""
        done = [vkey for vkey, (_, _, future) in self.in_flight.items() if future.done()]
        outcomes = []
        for witness, size, future in (self.in_flight.pop(vkey) for vkey in done):
            if future.cancelled():
                continue
            error = future.exception()
            # Whatever a submission raised is an outcome: the thread reports, never dies.
            outcomes.append(
                future.result()
                if error is None
                else Outcome(
                    witness, size, (), None, f"submission to {witness.name} failed: {error}"
                )
            )
        self._record(outcomes)
        return outcomes

    def _due(self, session: Session, current: WitnessConfig, size: int) -> list[Witness]:
        """The witnesses to send the checkpoint of `size` to."""
        now = self.clock()
        due = []
        for witness in current.witnesses:
            standing = self.standings.get(witness.vkey)
            if standing is None:
                last = witnessstore.last_cosigned_size(session, witness.vkey)
                standing = self.standings[witness.vkey] = _Standing(last)
            if (
                standing.size != size
                and standing.retry_at <= now
                and witness.vkey not in self.in_flight
            ):
                due.append(witness)
        return due

    # --- one witness ------------------------------------------------------------------

    def _submit(
        self,
        client: httpx.Client,
        witness: Witness,
        note: str,
        size: int,
        proofs: dict[int, list[bytes]],
    ) -> Outcome:
        """`submit` from the size the witness stands at, with this round's proofs (or one
        read now, for a size a 409 named)."""

        def proof(old: int) -> list[bytes]:
            return proofs[old] if old in proofs else self._proof(old, size)

        return submit(client, witness, note, size, self.standings[witness.vkey].size, proof)

    def _proof(self, old: int, size: int) -> list[bytes]:
        if old in (0, size):
            return []
        with self.db.read_session() as session:
            return logstore.consistency_proof(session, old, size)

    # --- what was learnt ----------------------------------------------------------------

    def _record(self, outcomes: list[Outcome]) -> None:
        now = self.clock()
        cosigned = [o for o in outcomes if o.lines]
        if cosigned:
            with self.db.write_session() as session:
                for o in cosigned:
                    witnessstore.add_cosignatures(
                        session, o.checkpoint, [(o.witness.vkey, o.lines[0])]
                    )
                session.commit()
        for outcome in outcomes:
            standing = self.standings.setdefault(outcome.witness.vkey, _Standing(0))
            if outcome.size is not None:
                standing.size = outcome.size
            if outcome.problem is None:
                standing.failures, standing.retry_at = 0, 0.0
                LOG.info("witness %s cosigned checkpoint %d", outcome.witness.name, outcome.size)
                continue
            standing.failures += 1
            wait = min(MAX_BACKOFF_S, self.interval * 2**standing.failures)
            standing.retry_at = now + wait
            LOG.warning("%s; next try in %.0f s", outcome.problem, wait)

    # --- the lease ----------------------------------------------------------------------

    def _hold_lease(self, reading: Session) -> bool:
        """Hold the lease, renewed when half of it has run; a write only to take or renew it,
        so that the processes which do not hold it never take the write lock."""
        now_ms = int(time.time() * 1000)
        if self.lease_until_ms - now_ms > LEASE_TTL_MS // 2:
            return True
        if not witnessstore.lease_free(reading, self.holder, now_ms):
            self.lease_until_ms = 0
            self.standings.clear()  # another process submits; read afresh if we take over
            return False
        with self.db.write_session() as session:
            held = witnessstore.take_lease(session, self.holder, now_ms, LEASE_TTL_MS)
            session.commit()
        self.lease_until_ms = now_ms + LEASE_TTL_MS if held else 0
        if not held:
            self.standings.clear()  # another process submits; read afresh if we take over
        return held

    def _release(self) -> None:
        if not self.lease_until_ms:
            return
        try:
            with self.db.write_session() as session:
                witnessstore.release_lease(session, self.holder)
                session.commit()
        except SQLAlchemyError as exc:
            LOG.warning("witness submitter: lease not released: %s", exc)


def start(db: Database, interval: float) -> Callable[[], None]:
    """Run a submitter in a daemon thread; return the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Submitter(db, interval).run, args=(stop,), name="witness-submitter", daemon=True
    )
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=REQUEST_TIMEOUT_S + 5)

    return halt
