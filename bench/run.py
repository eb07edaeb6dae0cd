"""The performance benchmark (`make bench`): one table, every figure measured in this run.

    .venv/bin/python -m bench.run [--entries 1000000] [--database-url URL] [--quick]

Builds a pre-signed workload from the scenario generator (bench/perf_workload.py), then:
raw Ed25519 verification on one core (measured first: the reference R), ingest through
`POST /v1/entries/batch` into one `ree-ledger serve` process on SQLite, p50/p99 of the lot
provenance and lot page of a lot with 100 entries of ancestry at ~10k entries and at the
full size, the server's peak RSS, `ree-ledger audit` over the whole log, inclusion proofs
against pymerkle 7 on the same leaves, and ingest into PostgreSQL with two server processes
(a private, durable server unless --database-url is given; --no-postgres skips it), and
reads of the customs page and provenance from a streaming replica while ingest runs on the
primary, against the same reads from the primary (bench/perf_replica.py; --replica-seconds 0
skips it).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import perf_measure, perf_replica, perf_server, perf_witness
from bench.perf_server import Ingest, Latency
from bench.perf_workload import Workload, build
from ledger.home import Home

SMALL = 10_000
QUICK_ENTRIES = 2_000
# Proof requests sent before the RSS is read: enough to fill the node cache at 1M (31).
PROOF_REQUESTS = 64
CLIENTS_NOTE = "one client per independent stream (2), after a sequential first 10k"


@dataclass
class Results:
    entries: int
    cores: int
    cpu: str
    verify_rate: float = 0.0
    verify_rate_nacl: float = 0.0
    sqlite: Ingest = field(default_factory=Ingest)
    postgres: Ingest | None = None
    postgres_note: str = ""
    audit: perf_measure.AuditRun | None = None
    precheck: perf_measure.PrecheckRun | None = None
    latencies: dict[str, list[Latency | None]] = field(default_factory=dict)
    proofs: perf_measure.Proofs | None = None
    rss: dict[str, float] = field(default_factory=dict)
    workload_seconds: float = 0.0
    witness: perf_witness.WitnessIngest | None = None
    replica: perf_replica.ReplicaReads | None = None
    replica_note: str = ""


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    entries = QUICK_ENTRIES if args.quick and args.entries is None else args.entries or 1_000_000
    results = Results(entries, perf_measure.cores(), perf_measure.cpu_model())
    _say(f"{results.cores} cores, {results.cpu}; {entries} entries")
    results.verify_rate = perf_measure.raw_verify_rate()
    results.verify_rate_nacl = perf_measure.raw_verify_rate_nacl()
    _say(
        f"raw verify: {results.verify_rate:,.0f}/s (pyca), {results.verify_rate_nacl:,.0f}/s (nacl)"
    )
    with tempfile.TemporaryDirectory(prefix="ree-bench-", dir=args.workdir) as tmp:
        root = Path(tmp)
        sqlite_home = root / "sqlite-home"
        env = perf_server.init_home(sqlite_home, None)
        started = time.perf_counter()
        workload = build(
            root / "workload.txt", entries, Home(sqlite_home).operator_key(), args.jobs
        )
        results.workload_seconds = time.perf_counter() - started
        _say(f"workload: {workload.batches} batches signed in {results.workload_seconds:.0f} s")
        _sqlite(results, workload, sqlite_home, env, args.requests)
        if args.witness_rounds:
            first = min(args.witness_entries, entries)
            results.witness = perf_witness.measure(
                workload, sqlite_home, root / "witnessed", first, args.witness_rounds
            )
            _say(f"witnesses: {results.witness.summary()}")
        results.audit = perf_measure.run_audit(env, entries, args.audit_jobs)
        _say(f"audit: {results.audit.rate:,.0f} entries/s ({results.audit.output})")
        url = f"sqlite:///{sqlite_home / 'ledger.db'}"
        results.precheck = perf_measure.run_precheck(url, results.cores)
        _say(f"audit steps (1)-(4) alone: {results.precheck.rate:,.0f} entries/s")
        results.proofs = perf_measure.inclusion_proofs(url, args.proofs)
        _say(f"proofs: {results.proofs}")
        if not args.no_postgres:
            _postgres(results, workload, root, sqlite_home, args.database_url)
        _replica(results, workload, root, sqlite_home, args)
    print(table(results))
    return 0


def _sqlite(results: Results, workload: Workload, home: Path, env: dict[str, str], n: int) -> None:
    small = min(SMALL, max(workload.entries // 2, 1))
    paths = _read_paths(workload.deep_lot)
    with perf_server.served(home, env, workers=1) as server:
        done = results.sqlite
        posted = perf_server.post_sequential(server.client, workload, small, done)
        small_size = perf_server.log_size(server.client)
        # The log at ~10k entries, kept to be read beside the full one (not timed).
        small_home = home.with_name(f"{home.name}-{small_size}")
        perf_server.snapshot_home(home, small_home)
        _say(f"sqlite: {done.entries} entries at {done.rate:,.0f}/s; copied the log")
        perf_server.post_streams(str(server.client.base_url), workload, posted, done)
        _say(f"sqlite: {done.entries} entries at {done.rate:,.0f}/s; measuring reads")
        size = perf_server.log_size(server.client)
        if size != workload.entries:
            raise RuntimeError(f"the log has {size} entries, the workload {workload.entries}")
        # The server's peak holds the reads' memo and the node cache (up to 32 MiB) too.
        for path in paths:
            for _ in range(PROOF_REQUESTS):
                server.client.get(path).raise_for_status()
        for index in random.Random(5).sample(range(size), min(PROOF_REQUESTS, size)):
            response = server.client.get(f"/v1/proofs/inclusion?index={index}&size={size}")
            response.raise_for_status()
        results.rss = server.peak_rss_mb()
    # Latencies from two fresh servers, one on the copy at ~10k and one on the full log, read
    # in turn: both sizes in the same minutes, neither server fresh from a million writes.
    small_env = {**env, "REE_LEDGER_HOME": str(small_home)}
    with (
        perf_server.served(small_home, small_env, workers=1) as small_server,
        perf_server.served(home, env, workers=1) as full_server,
    ):
        pair = [(small_server.client, small_size), (full_server.client, size)]
        for path in paths:
            measured = perf_server.latencies(pair, path, n)
            results.latencies[path] = [*measured] if measured else [None]


def _postgres(
    results: Results, workload: Workload, root: Path, keys_from: Path, url: str | None
) -> None:
    from bench.perf_pg import DurablePostgres, server_settings
    from tests.pgserver import PostgresNotFound

    pg: DurablePostgres | None = None
    try:
        if url is None:
            try:
                pg = DurablePostgres()
            except PostgresNotFound as exc:
                results.postgres_note = f"not measured: {exc}"
                return
            pg.start()
            url = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
        settings = server_settings(url)
        results.postgres_note = ", ".join(f"{k}={v}" for k, v in settings.items())
        env = perf_server.init_home(root / "pg-home", url, keys_from=keys_from)
        with perf_server.served(root / "pg-home", env, workers=2) as server:
            done = Ingest()
            setup = sum(1 for name, _, _ in workload.batches_of() if name == "setup")
            posted = perf_server.post_sequential(server.client, workload, 1, done)
            while posted < setup:
                posted = perf_server.post_sequential(
                    server.client, workload, done.entries + 1, done
                )
            perf_server.post_streams(str(server.client.base_url), workload, posted, done)
            results.postgres = done
            _say(
                f"postgres: {done.entries} entries at {done.rate:,.0f}/s ({results.postgres_note})"
            )
    finally:
        if pg is not None:
            pg.stop()


def _replica(
    results: Results, workload: Workload, root: Path, keys_from: Path, args: argparse.Namespace
) -> None:
    from tests.pgserver import PostgresNotFound

    if args.no_postgres or args.replica_seconds <= 0:
        results.replica_note = "skipped (--no-postgres or --replica-seconds 0)"
        return
    try:
        results.replica = perf_replica.measure(
            workload, root, keys_from, args.replica_seconds, args.replica_workers
        )
    except PostgresNotFound as exc:
        results.replica_note = f"not measured: {exc}"
        _say(f"replica reads: {results.replica_note}")
        return
    r = results.replica
    _say(
        f"replica reads: {r.replica_rate:,.1f}/s vs {r.primary_rate:,.1f}/s on the primary "
        f"({r.ratio:.2f} ×); ingest {r.ingest.rate:,.0f}/s; {r.lag()}"
    )


def _read_paths(lot: str) -> list[str]:
    return [f"/v1/lots/{lot}/provenance", f"/lots/{lot}"]


def table(r: Results) -> str:
    """The benchmark's one table, with each figure's target and whether it is met."""
    big_r = r.verify_rate
    rows = [
        ("raw Ed25519 verify/s, one core (pyca/cryptography)", f"{big_r:,.0f}", "reference R", ""),
        (
            "  (libsodium via PyNaCl, one core, for comparison)",
            f"{r.verify_rate_nacl:,.0f}",
            "",
            f"{r.verify_rate_nacl / big_r:.2f} × R",
        ),
        _ingest_row(r),
        _witness_row(r),
        _postgres_row(r),
        _replica_row(r),
        *_audit_rows(r),
    ]
    for path, points in r.latencies.items():
        rows.extend(_latency_rows(path, points))
    rows.extend(_proof_rows(r))
    rows.append(_rss_row(r))
    lines = [
        f"ree-ledger benchmark: {r.entries:,} entries, {r.cores} cores ({r.cpu})",
        "",
        "| figure | measured | target | result |",
        "|---|---:|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def _ingest_row(r: Results) -> tuple[str, str, str, str]:
    rate = r.sqlite.rate
    ok = rate >= 0.5 * r.verify_rate
    return (
        "ingest entries/s, POST /v1/entries/batch, 1 server process, SQLite (FULL sync)",
        f"{rate:,.0f}",
        "≥ 0.5 × R",
        f"{_mark(ok)} {rate / r.verify_rate:.2f} × R",
    )


def _witness_row(r: Results) -> tuple[str, str, str, str]:
    name = "ingest with two witnesses cosigning / without (SQLite, 1 server process)"
    w = r.witness
    if w is None:
        return (name, "–", "≥ 95 %", "skipped (--witness-rounds 0)")
    return (
        f"{name}: first {w.entries:,} entries, median of {len(w.alone)} pairs; cosigned "
        f"{statistics.median(w.catch_up_s):.1f} s after the last write",
        f"{w.ratio:.1%}",
        "≥ 95 %",
        f"{_mark(w.ratio >= 0.95)} {statistics.median(w.witnessed):,.0f} vs "
        f"{statistics.median(w.alone):,.0f}/s",
    )


def _postgres_row(r: Results) -> tuple[str, str, str, str]:
    name = "ingest entries/s, PostgreSQL, 2 server processes"
    if r.postgres is None:
        return (name, "–", "≥ SQLite ingest", r.postgres_note or "skipped (--no-postgres)")
    rate = r.postgres.rate
    return (
        f"{name} ({r.postgres_note})",
        f"{rate:,.0f}",
        "≥ SQLite ingest",
        f"{_mark(rate >= r.sqlite.rate)} {rate / r.sqlite.rate:.2f} × SQLite",
    )


def _replica_row(r: Results) -> tuple[str, str, str, str]:
    name = "reads/s of GET /lots/{lot} and /v1/lots/{lot}/provenance in turn (deep lot)"
    p = r.replica
    if p is None:
        return (name + ", streaming replica / primary", "–", "", r.replica_note)
    return (
        f"{name}, {p.workers} API processes and {p.clients} clients on a streaming replica / "
        f"the same on the primary, while ingest runs on the primary "
        f"({p.seconds:.0f} s in {perf_replica.ROUNDS} alternating rounds; durable PostgreSQL, "
        "primary and replica on this machine)",
        f"{p.replica_rate:,.1f} / {p.primary_rate:,.1f}",
        "",
        f"{p.ratio:.2f} × the primary; ingest meanwhile {p.ingest.rate:,.0f} entries/s "
        f"({p.ingest.entries:,} entries posted in {p.ingest.seconds:.1f} s); {p.lag()}",
    )


def _audit_rows(r: Results) -> list[tuple[str, str, str, str]]:
    assert r.audit is not None
    want = 0.8 * r.cores * r.verify_rate
    rows = [
        (
            "`ree-ledger audit` entries/s over the whole log",
            f"{r.audit.rate:,.0f}",
            f"≥ 0.8 × {r.cores} × R = {want:,.0f}",
            f"{_mark(r.audit.rate >= want)} {r.audit.rate / r.verify_rate:.2f} × R",
        )
    ]
    if r.precheck is not None:
        share = r.audit.rate / r.precheck.rate
        rows.append(
            (
                f"  (its steps (1)–(4) alone, in {r.precheck.workers} worker processes: "
                "envelope, payload, columns, signatures; no replay of custody and rules)",
                f"{r.precheck.rate:,.0f}",
                "",
                f"{r.precheck.rate / r.verify_rate:.2f} × R; the whole audit runs at "
                f"{share:.0%} of it",
            )
        )
    return rows


def _latency_rows(path: str, points: list[Latency | None]) -> list[tuple[str, str, str, str]]:
    name = f"GET {_generic(path)}"
    if not points or points[0] is None:
        return [(name, "not built", "p99 ≤ 50 ms", "route not found (404)")]
    rows = []
    for point in points:
        assert point is not None
        rows.append(
            (
                f"{name} at {point.size:,} entries, p50 / p99 ({point.requests} requests, "
                "in turn with the other size)",
                f"{point.p50_ms:.1f} / {point.p99_ms:.1f} ms",
                "p99 ≤ 50 ms",
                _mark(point.p99_ms <= 50),
            )
        )
    small, big = points[0], points[-1]
    assert small is not None and big is not None
    ratio = big.p50_ms / small.p50_ms
    rows.append((f"{name}: p50 ratio, full / 10k", f"{ratio:.2f}", "≤ 1.5", _mark(ratio <= 1.5)))
    return rows


def _generic(path: str) -> str:
    parts = path.split("/")
    lot_position = 3 if path.startswith("/v1/") else 2
    parts[lot_position] = "{lot}"
    return "/".join(parts)


def _proof_rows(r: Results) -> list[tuple[str, str, str, str]]:
    p = r.proofs
    assert p is not None
    want = 4 * p.pymerkle
    at = f"inclusion proofs/s at {p.size:,} entries"
    cache = (
        f"node cache warm (levels ≥ {p.cache_lowest_level} in memory: {p.cache_mib:.1f} MiB of "
        f"hashes, process RSS +{p.cache_rss_mb:.0f} MB; warmed by the cold run below, then "
        "`NodeCache.warm`)"
    )
    warmed = (
        f"cache complete after {p.warmed_after:,} proof{'s' if p.warmed_after > 1 else ''}"
        if p.warmed_after
        else "cache not complete by then"
    )

    def versus(rate: float) -> str:
        return f"{rate / p.pymerkle:.1f} × pymerkle"

    return [
        (
            f"pymerkle 7 InmemoryTree inclusion proofs/s, same {p.size:,} leaves "
            f"(built in {p.pymerkle_build_s:.0f} s; timed in {perf_measure.ROUNDS} rounds, in "
            "turn with each warm figure below, on the same random leaves)",
            f"{p.pymerkle:,.0f}",
            "",
            f"{p.checked} proofs identical to ours (cached, batched and uncached)",
        ),
        (
            f"{at}, one proof per call (the read of GET /v1/proofs/inclusion), {cache}",
            f"{p.ours_single:,.0f}",
            f"≥ 4 × pymerkle = {want:,.0f}",
            f"{_mark(p.ours_single >= want)} {versus(p.ours_single)}",
        ),
        (
            f"{at}, 100 proofs per call (`logstore.inclusion_proofs`), node cache warm",
            f"{p.ours_batched:,.0f}",
            f"≥ 4 × pymerkle = {want:,.0f}",
            f"{_mark(p.ours_batched >= want)} {versus(p.ours_batched)}",
        ),
        (
            f"{at}, one proof per call, node cache cold: the first {p.count:,} proofs "
            "of a new engine's cache, warming included",
            f"{p.ours_cold:,.0f}",
            "",
            f"{versus(p.ours_cold)}; {warmed}",
        ),
        (
            f"{at}, one proof per read session (`queries.inclusion_proof`, as the route, "
            "without HTTP), node cache warm",
            f"{p.per_request:,.0f}",
            "",
            versus(p.per_request),
        ),
        (
            f"{at} without the node cache: one proof per read / 100 proofs per read "
            "(as provenance, bundles and ingest read)",
            f"{p.uncached_single:,.0f} / {p.uncached_batched:,.0f}",
            "",
            f"{versus(p.uncached_single)} / {versus(p.uncached_batched)}",
        ),
    ]


def _rss_row(r: Results) -> tuple[str, str, str, str]:
    server = r.rss.get("server", 0.0)
    child = r.rss.get("largest child", 0.0)
    extra = f"; largest child process {child:.0f} MB" if child else ""
    return (
        f"server peak RSS (VmHWM) at {r.entries:,} entries, after {PROOF_REQUESTS} reads of "
        f"each route and {PROOF_REQUESTS} proof requests",
        f"{server:.0f} MB",
        "≤ 250 MB",
        f"{_mark(server <= 250)}{extra}",
    )


def _mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=None, help="log size (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help=f"CI smoke size ({QUICK_ENTRIES})")
    parser.add_argument("--database-url", help="PostgreSQL for the PostgreSQL row")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL row")
    parser.add_argument(
        "--replica-seconds",
        type=float,
        default=20.0,
        help="seconds of reads for the streaming-replica row (0: skip)",
    )
    parser.add_argument(
        "--replica-workers", type=int, default=2, help="API processes of each reading server"
    )
    parser.add_argument("--requests", type=int, default=200, help="GETs per latency figure")
    parser.add_argument("--proofs", type=int, default=20_000, help="inclusion proofs to time")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="signing processes")
    parser.add_argument("--audit-jobs", type=int, default=None, help="pass --jobs to the audit")
    parser.add_argument("--workdir", default=None, help="where the temporary homes go")
    parser.add_argument(
        "--witness-entries", type=int, default=20_000, help="entries ingested with witnesses"
    )
    parser.add_argument(
        "--witness-rounds", type=int, default=3, help="pairs of runs with and without (0: skip)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
