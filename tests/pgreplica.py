"""A throw-away streaming replica (hot standby) of a `TemporaryPostgres`, for the tests.

`pg_basebackup -R` copies the primary's data directory over a replication connection on
loopback (the primary's pg_hba.conf from initdb trusts `replication` from 127.0.0.1) and
writes standby.signal and primary_conninfo; the copy then starts as a hot standby on its own
port, streaming the primary's WAL. It runs as the same unprivileged user as the primary.

    with TemporaryStandby(primary) as standby:
        standby.caught_up()                    # the standby has replayed all the primary wrote
        standby.pause() ... standby.resume()   # pg_wal_replay_pause() / pg_wal_replay_resume()
"""

from __future__ import annotations

import time

import psycopg

from tests.pgserver import SUPERUSER, PostgresStartError, TemporaryPostgres

CATCH_UP_TIMEOUT_S = 30


class TemporaryStandby(TemporaryPostgres):
    """A hot standby of `primary` in its own temporary directory; a context manager."""

    def __init__(self, primary: TemporaryPostgres) -> None:
        super().__init__(primary.bindir)
        self.primary = primary

    def _initdb(self) -> None:
        # Instead of initdb: the primary's data directory, as a standby of it.
        result = self._run(
            str(self.bindir / "pg_basebackup"),
            "-D",
            str(self.datadir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            SUPERUSER,
            "-R",  # standby.signal + primary_conninfo: start as a standby of the primary
            "-X",
            "stream",
            "--checkpoint=fast",  # do not wait for the primary's next checkpoint
            "--no-sync",
        )
        if result.returncode != 0:
            raise PostgresStartError(
                f"pg_basebackup from 127.0.0.1:{self.primary.port} failed "
                f"(exit {result.returncode}):\n{result.stdout}\n{result.stderr}".rstrip()
            )

    def _query(self, conninfo: str, query: str) -> object:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            cursor = conn.execute(query)
            row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None

    def streaming(self) -> bool:
        """The primary sees this standby's WAL receiver streaming."""
        state = self.primary_query(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        )
        return bool(state)

    def primary_query(self, query: str) -> object:
        return self._query(self.primary.conninfo(), query)

    def query(self, query: str) -> object:
        return self._query(self.conninfo(), query)

    def caught_up(self, timeout: float = CATCH_UP_TIMEOUT_S) -> None:
        """Wait until the standby has replayed everything the primary has written so far.

        The primary's insert position, not its write position: with synchronous_commit off a
        commit may still be in the WAL buffers, ahead of what pg_current_wal_lsn() shows."""
        with psycopg.connect(self.primary.conninfo(), autocommit=True) as conn:
            # A transaction with an id, committed synchronously, flushes the WAL up to its
            # commit (the walwriter of an idle server would take up to seconds), so the
            # primary sends everything before it.
            conn.execute("SET synchronous_commit = on")
            conn.execute("SELECT pg_current_xact_id()")
            target = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        deadline = time.monotonic() + timeout
        while True:
            behind = self.query(
                f"SELECT pg_wal_lsn_diff('{target and target[0]}', pg_last_wal_replay_lsn())"
            )
            if behind is not None and float(str(behind)) <= 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the standby is {behind} bytes of WAL behind the primary after {timeout}s"
                )
            time.sleep(0.02)

    def pause(self) -> None:
        """Stop replaying WAL (it is still received): the standby stays at its present state."""
        self.query("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
        while self.query("SELECT pg_get_wal_replay_pause_state()") != "paused":
            if time.monotonic() > deadline:
                raise TimeoutError("the standby did not pause its replay")
            time.sleep(0.01)

    def resume(self) -> None:
        self.query("SELECT pg_wal_replay_resume()")
