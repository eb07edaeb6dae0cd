"""Ingest with two witnesses cosigning beside the server, against ingest without (DESIGN §9.3):
the witness submitter is off the write path, so the two rates must agree within 5 %.

    .venv/bin/python -m bench.perf_witness [--entries 20000] [--rounds 3]

Each round ingests the same first `entries` of the workload into two fresh SQLite homes with
the same keys, one served alone and one with two `ree-ledger witness serve` processes
configured at quorum 2 (the demo's, ledger/cli/demo_witnesses.py), in alternating order; the
figure is the median of the rounds. With witnesses, it also times how long after the last
write the served checkpoint (quorum 2) reaches the log's size.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import perf_server
from bench.detect import _free_port
from bench.perf_server import Ingest
from bench.perf_workload import Workload, build
from ledger.cli.demo_witnesses import demo_witnesses
from ledger.home import Home
from ledger.tlog.note import Checkpoint

ORIGIN = "ree-ledger.local/log"
CATCH_UP_TIMEOUT_S = 120.0


@dataclass
class WitnessIngest:
    entries: int
    alone: list[float] = field(default_factory=list)  # entries/s
    witnessed: list[float] = field(default_factory=list)
    catch_up_s: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.witnessed) / statistics.median(self.alone)

    def summary(self) -> str:
        return (
            f"{self.entries:,} entries, median of {len(self.alone)}: "
            f"{statistics.median(self.alone):,.0f}/s alone, "
            f"{statistics.median(self.witnessed):,.0f}/s with two witnesses "
            f"({self.ratio:.1%}); each run, alone {_rates(self.alone)}, witnessed "
            f"{_rates(self.witnessed)}; cosigned {statistics.median(self.catch_up_s):.1f} s "
            "after the last write"
        )


def _rates(rates: list[float]) -> str:
    return ", ".join(f"{rate:,.0f}" for rate in rates)


def measure(
    workload: Workload, keys_from: Path, root: Path, entries: int, rounds: int
) -> WitnessIngest:
    """`rounds` pairs of runs, alternating which goes first."""
    result = WitnessIngest(entries)
    for number in range(rounds):
        order = (False, True) if number % 2 == 0 else (True, False)
        for witnessed in order:
            home = root / f"round-{number}-{'witnessed' if witnessed else 'alone'}"
            rate, catch_up = _run(workload, keys_from, home, entries, witnessed)
            (result.witnessed if witnessed else result.alone).append(rate)
            if catch_up is not None:
                result.catch_up_s.append(catch_up)
    return result


def _run(
    workload: Workload, keys_from: Path, home: Path, entries: int, witnessed: bool
) -> tuple[float, float | None]:
    env = perf_server.init_home(home, None, keys_from=keys_from)
    if not witnessed:
        return _ingest(workload, home, env, entries, None), None
    url = f"sqlite:///{home / 'ledger.db'}"
    log_vkey = Home(home).identity(ORIGIN).log_vkey
    ports = (_free_port(), _free_port())
    with demo_witnesses(home, url, log_vkey, "127.0.0.1", ports):
        caught_up: list[float] = []
        rate = _ingest(workload, home, env, entries, caught_up)
    return rate, caught_up[0]


def _ingest(
    workload: Workload,
    home: Path,
    env: dict[str, str],
    entries: int,
    caught_up: list[float] | None,
) -> float:
    with perf_server.served(home, env, workers=1) as server:
        done = Ingest()
        perf_server.post_sequential(server.client, workload, entries, done)
        if caught_up is not None:
            last_write = time.perf_counter()
            size = perf_server.log_size(server.client)
            while _served_size(server) != size:
                if time.perf_counter() - last_write > CATCH_UP_TIMEOUT_S:
                    raise RuntimeError(f"no checkpoint of size {size} cosigned by both")
                time.sleep(0.05)
            caught_up.append(time.perf_counter() - last_write)
    return done.rate


def _served_size(server: perf_server.Server) -> int | None:
    answer = server.client.get("/v1/checkpoint")
    if answer.status_code != 200:
        return None
    return Checkpoint.parse(answer.text.partition("\n\n")[0] + "\n").size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2, help="processes signing the workload")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ree-witness-bench-") as tmp:
        root = Path(tmp)
        keys = root / "keys"
        perf_server.init_home(keys, None)
        workload = build(root / "workload.txt", args.entries, Home(keys).operator_key(), args.jobs)
        print(measure(workload, keys, root, args.entries, args.rounds).summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
