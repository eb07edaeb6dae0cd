"""A throw-away PostgreSQL server for the tests.

`TemporaryPostgres` runs `initdb` into a fresh temporary directory and starts a private
server on a free loopback port, with its Unix socket in that directory; nothing is shared
with a PostgreSQL cluster the machine may already run. Durability is switched off
(fsync, synchronous commit): the data is thrown away anyway.

PostgreSQL refuses to run as root, so when we are root the server binaries run as the
unprivileged user `postgres` (created by Debian's package) through `runuser`.

    with TemporaryPostgres() as pg:
        url = pg.create_database("t_1")   # postgresql+psycopg://postgres@127.0.0.1:PORT/t_1
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
RUN_AS = "postgres"  # the OS account the server runs under when we are root
START_TIMEOUT_S = 60
START_ATTEMPTS = 3  # a free port may be taken by someone else before the server binds it
# sun_path holds 108 bytes; keep "<dir>/.s.PGSQL.<port>" well under it.
MAX_SOCKET_DIR_LEN = 80

# The watchdog: a tiny process that outlives us if we are killed (SIGKILL, SIGTERM from a CI
# timeout) and then stops the server and removes its directory. It waits for EOF on stdin,
# which happens when we close the pipe in stop() or when we die.
_WATCHDOG = """
import os, shutil, subprocess, sys
command, datadir, tmpdir = sys.argv[1:-2], sys.argv[-2], sys.argv[-1]
sys.stdin.buffer.read()
if os.path.exists(os.path.join(datadir, "postmaster.pid")):
    subprocess.run([*command, "-D", datadir, "-m", "immediate", "-w", "stop"],
                   cwd=tmpdir, capture_output=True, timeout=60)
shutil.rmtree(tmpdir, ignore_errors=True)
"""


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


class PostgresStartError(RuntimeError):
    """initdb or the server failed; the message carries the tail of the log."""


def find_bindir() -> Path:
    """The directory holding `initdb`, `pg_ctl` and `postgres`.

    Looked for in $REE_LEDGER_PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/*/bin
    (newest version first), then on PATH.
    """
    candidates: list[Path] = []
    env_dir = os.environ.get("REE_LEDGER_PG_BINDIR")
    if env_dir:
        candidates.append(Path(env_dir))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (subprocess.SubprocessError, OSError):
            pass
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: _version_key(Path(p).parent.name), reverse=True)
    candidates.extend(Path(p) for p in versioned)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if all(os.access(candidate / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return candidate
    raise PostgresNotFound(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found in "
        "$REE_LEDGER_PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH; "
        "run scripts/install-system-deps as root, "
        "or run only the SQLite tests: REE_LEDGER_TEST_BACKENDS=sqlite"
    )


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (-1,)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class TemporaryPostgres:
    """A private PostgreSQL server in a temporary directory; a context manager.

    `start()` / `stop()` may also be called directly; `stop()` is idempotent and also runs
    at interpreter exit if it was forgotten.
    """

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir if bindir is not None else find_bindir()
        self.port: int | None = None
        self.tmpdir: Path | None = None
        self._as_root = os.geteuid() == 0
        self._running = False
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- paths and URLs -------------------------------------------------------------

    @property
    def datadir(self) -> Path:
        return self._dir() / "data"

    @property
    def sockdir(self) -> Path:
        return self._dir()

    @property
    def logfile(self) -> Path:
        return self._dir() / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `postgres` database."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of database `name` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self._port()}/{name}"

    def conninfo(self, name: str = "postgres") -> str:
        """libpq connection string of database `name` (for psycopg.connect)."""
        return f"host=127.0.0.1 port={self._port()} user={SUPERUSER} dbname={name}"

    # -- databases ----------------------------------------------------------------

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database `name` (a copy of `template` if given); returns its URL."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        self.execute(query)
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, disconnecting whoever is still connected to it."""
        self.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def execute(self, query: sql.SQL | sql.Composed) -> None:
        """Run one statement outside a transaction (autocommit) in the `postgres` database."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(query)

    # -- life cycle ---------------------------------------------------------------

    def __enter__(self) -> TemporaryPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._running:
            return
        try:
            self._make_tmpdir()
            self._start_watchdog()
            self._initdb()
            last_error: PostgresStartError | None = None
            for _ in range(START_ATTEMPTS):
                try:
                    self._start_server(free_port())
                    last_error = None
                    break
                except PostgresStartError as error:
                    last_error = error
                    if "already in use" not in str(error):
                        raise
            if last_error is not None:
                raise last_error
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)

    def stop(self) -> None:
        """Stop the server (fast shutdown, then harder) and delete the directory."""
        if self._running:
            self._running = False
            if not self._pg_ctl_stop("fast"):
                self._pg_ctl_stop("immediate")
            self._kill_leftover_postmaster()
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        self._stop_watchdog()
        atexit.unregister(self.stop)

    # -- internals ----------------------------------------------------------------

    def _dir(self) -> Path:
        if self.tmpdir is None:
            raise RuntimeError("TemporaryPostgres is not started")
        return self.tmpdir

    def _port(self) -> int:
        if self.port is None:
            raise RuntimeError("TemporaryPostgres is not started")
        return self.port

    def _make_tmpdir(self) -> None:
        parent: str | None = None
        if len(tempfile.gettempdir()) > MAX_SOCKET_DIR_LEN - 20:
            parent = "/tmp"  # $TMPDIR too long for a Unix socket path
        # When root, pytest's own tmp dirs are 0700 root: the server could not reach them.
        self.tmpdir = Path(tempfile.mkdtemp(prefix="ree-pg-", dir=parent))
        os.chmod(self.tmpdir, 0o700)
        if self._as_root:
            try:
                account = pwd.getpwnam(RUN_AS)
            except KeyError:
                raise PostgresStartError(
                    f"running as root, and there is no '{RUN_AS}' user to run PostgreSQL as "
                    "(PostgreSQL refuses to run as root); install the postgresql package"
                ) from None
            os.chown(self.tmpdir, account.pw_uid, account.pw_gid)

    def _start_watchdog(self) -> None:
        command = self._command(str(self.bindir / "pg_ctl"))
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, *command, str(self.datadir), str(self._dir())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C on the terminal is for us, not for it
        )

    def _stop_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is None:
            return
        if watchdog.stdin is not None:
            watchdog.stdin.close()
        try:
            watchdog.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()

    def _command(self, *args: str) -> list[str]:
        if self._as_root:
            return ["runuser", "-u", RUN_AS, "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "LC_ALL": "C",
            "LANG": "C",
            "TZ": "UTC",
        }
        for var in ("PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS"):
            env.pop(var, None)
        return subprocess.run(
            self._command(*args),
            cwd=self._dir(),  # the postgres user cannot enter root's working directory
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _initdb(self) -> None:
        result = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",  # byte-order collation: same ordering as SQLite, no OS locale needed
            "--no-sync",
        )
        if result.returncode != 0:
            raise PostgresStartError(
                f"initdb failed (exit {result.returncode}) in {self.bindir}:\n"
                f"{result.stdout}\n{result.stderr}".rstrip()
            )

    def _start_server(self, port: int) -> None:
        options = " ".join(
            [
                "-F",  # fsync off
                "-c listen_addresses=127.0.0.1",
                f"-p {port}",
                f"-k {self.sockdir}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=100",
                # A streaming replica may be made of it (tests/pgreplica.py): these are the
                # defaults, stated; initdb's pg_hba.conf trusts replication from 127.0.0.1.
                "-c wal_level=replica",
                "-c max_wal_senders=10",
            ]
        )
        # A fresh log per attempt, so the tail we show is this attempt's.
        if self.logfile.exists():
            self.logfile.unlink()
        started = time.monotonic()
        result = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
            timeout=START_TIMEOUT_S + 30,
        )
        if result.returncode != 0:
            # pg_ctl may have left a half-started postmaster behind (timeout).
            self._pg_ctl_stop("immediate")
            self._kill_leftover_postmaster()
            raise PostgresStartError(
                f"PostgreSQL did not start on 127.0.0.1:{port} "
                f"(pg_ctl exit {result.returncode} after {time.monotonic() - started:.1f}s)\n"
                f"pg_ctl: {(result.stdout + result.stderr).strip()}\n"
                f"--- tail of {self.logfile.name} ---\n{_tail(self.logfile)}"
            )
        self.port = port
        self._running = True
        # pg_ctl -w has seen the server accept connections; check that we can too (TCP).
        try:
            with psycopg.connect(self.conninfo(), connect_timeout=10) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as error:
            raise PostgresStartError(
                f"PostgreSQL started but refuses connections on 127.0.0.1:{port}: {error}\n"
                f"--- tail of {self.logfile.name} ---\n{_tail(self.logfile)}"
            ) from error

    def _pg_ctl_stop(self, mode: str) -> bool:
        if self.tmpdir is None or not (self.datadir / "postmaster.pid").exists():
            return True
        try:
            result = self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-m",
                mode,
                "-w",
                "-t",
                "30",
                "stop",
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0

    def _kill_leftover_postmaster(self) -> None:
        """Last resort: SIGKILL the postmaster named in postmaster.pid, if still alive."""
        if self.tmpdir is None:
            return
        pidfile = self.datadir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except PermissionError:
            return
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
