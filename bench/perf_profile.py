"""Profile the hot paths in-process with cProfile: ingest of a workload, then the audit.

    .venv/bin/python -m bench.perf_profile [--entries 20000] [--what ingest|audit|all] [--plain]

`ingest` calls ledger.service.ingest.ingest on the batch bodies read as the batch route reads
them (`batch_envelopes`; no HTTP: profile the server itself with py-spy for that, see
docs/performance.md); `audit` runs
ledger.service.audit.audit.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import perf_server
from bench.perf_workload import build
from ledger.home import Home
from ledger.lots.tolerances import Tolerances
from ledger.service.audit import TrustedKeys, audit
from ledger.service.ingest import ingest
from ledger.store.engine import Database
from ledger.tlog.encoding import b64decode
from ledger.tlog.envelope import batch_envelopes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--what", default="all", choices=["ingest", "audit", "all"])
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--plain", action="store_true", help="time only, without cProfile")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ree-profile-") as tmp:
        home_dir = Path(tmp) / "home"
        env = perf_server.init_home(home_dir, None)
        home = Home(home_dir)
        workload = build(Path(tmp) / "workload.txt", args.entries, home.operator_key(), 2)
        url = env.get("REE_LEDGER_DATABASE_URL") or f"sqlite:///{home_dir / 'ledger.db'}"
        if args.what in ("ingest", "all"):
            _profile("ingest", lambda: _ingest(home, url, workload), args.top, args.plain)
        if args.what in ("audit", "all"):
            _profile("audit", lambda: _audit(url), args.top, args.plain)
    return 0


def _ingest(home: Home, url: str, workload: object) -> None:
    db = Database(url)
    identity = home.identity("ree-ledger.local/log")
    for _, _, body in workload.batches_of():  # type: ignore[attr-defined]
        envelopes = batch_envelopes(body)
        assert envelopes is not None
        ingest(db, identity, envelopes, datetime.now(UTC), Tolerances())
    db.dispose()


def _audit(url: str) -> None:
    db = Database(url)
    from ledger.store import log as logstore

    with db.read_session() as session:
        meta = logstore.read_meta(session)
    trusted = TrustedKeys(meta["origin"], meta["log_key"], b64decode(meta["operator_key"]))
    audit(db, trusted)
    db.dispose()


def _profile(name: str, work: object, top: int, plain: bool) -> None:
    assert callable(work)
    if plain:
        started, cpu = time.perf_counter(), time.process_time()
        work()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"=== {name}: {wall:.2f} s, {cpu:.2f} s of CPU in this process")
        return
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    work()
    profile.disable()
    print(f"=== {name}: {time.perf_counter() - started:.1f} s (under cProfile)")
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    raise SystemExit(main())
