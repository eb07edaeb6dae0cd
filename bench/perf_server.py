"""A `ree-ledger serve` under measurement: start it, post the workload, time reads, read its RSS."""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.detect import _free_port, _wait_until_up
from bench.perf_workload import SETUP, Workload

CLI = [sys.executable, "-m", "ledger.cli.main"]
KEY_FILES = ("log-key.pem", "operator-key.pem")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    client: httpx.Client
    home: Path
    env: dict[str, str]

    def peak_rss_mb(self) -> dict[str, float]:
        """VmHWM of the server process and, separately, the largest of its descendants."""
        peaks = {"server": _vm_hwm_mb(self.process.pid), "largest child": 0.0}
        for child in _descendants(self.process.pid):
            peaks["largest child"] = max(peaks["largest child"], _vm_hwm_mb(child))
        return peaks


def init_home(
    home: Path, database_url: str | None, keys_from: Path | None = None
) -> dict[str, str]:
    """`ree-ledger init` (with the key files of `keys_from`, if given); returns the env to use."""
    env = {**os.environ, "REE_LEDGER_HOME": str(home)}
    env.pop("REE_LEDGER_DATABASE_URL", None)
    if database_url:
        env["REE_LEDGER_DATABASE_URL"] = database_url
    if keys_from is not None:
        home.mkdir(mode=0o700, parents=True)
        for name in KEY_FILES:
            shutil.copy2(keys_from / name, home / name)
    subprocess.run([*CLI, "init"], env=env, check=True, capture_output=True)
    return env


@contextmanager
def served(home: Path, env: dict[str, str], workers: int) -> Iterator[Server]:
    port = _free_port()
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            _wait_until_up(client, process)
            yield Server(process, client, home, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_batch(client: httpx.Client, body: bytes) -> None:
    response = client.post(
        "/v1/entries/batch", content=body, headers={"content-type": "application/json"}
    )
    if response.status_code != 201:
        raise RuntimeError(f"batch refused ({response.status_code}): {response.text[:600]}")


@dataclass
class Ingest:
    entries: int = 0
    seconds: float = 0.0
    batches_done: int = 0

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


def post_sequential(client: httpx.Client, workload: Workload, until: int, done: Ingest) -> int:
    """Post batches in file order until `until` entries are in; returns how many batches."""
    posted = 0
    for _, count, body in workload.batches_of():
        if posted < done.batches_done:
            posted += 1
            continue
        if done.entries >= until:
            break
        started = time.perf_counter()
        post_batch(client, body)
        done.seconds += time.perf_counter() - started
        done.entries += count
        posted += 1
        done.batches_done = posted
    return posted


def post_streams(base_url: str, workload: Workload, skip: int, done: Ingest) -> None:
    """Post the batches after the first `skip`, one client thread per independent stream."""
    streams = workload.streams()
    pending: dict[str, list[tuple[int, bytes]]] = {name: [] for name in streams}
    for position, (name, count, body) in enumerate(workload.batches_of()):
        if position >= skip:
            if name == SETUP:
                raise RuntimeError("setup batches must all be posted before the streams")
            pending[name].append((count, body))
    errors: list[BaseException] = []
    counts: list[int] = []

    def run(batches: list[tuple[int, bytes]]) -> None:
        try:
            with httpx.Client(base_url=base_url, timeout=600) as client:
                for count, body in batches:
                    post_batch(client, body)
                    counts.append(count)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(pending[name],)) for name in streams]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.seconds += time.perf_counter() - started
    done.entries += sum(counts)
    if errors:
        raise errors[0]


@dataclass(frozen=True)
class Latency:
    size: int
    p50_ms: float
    p99_ms: float
    requests: int


def latencies(
    servers: Sequence[tuple[httpx.Client, int]], path: str, requests: int
) -> list[Latency] | None:
    """p50 and p99 of `requests` sequential GETs of `path` from each (client, log size) in
    `servers`, taken in turn (one request to each, the order rotating), so that every figure
    is measured in the same minutes on the same machine; None when the route does not exist.
    Ten warm-up requests to each first."""
    for client, _ in servers:
        first = client.get(path)
        if first.status_code == 404:
            return None
        if first.status_code != 200:
            raise RuntimeError(f"GET {path}: {first.status_code} {first.text[:300]}")
        for _ in range(min(10, requests)):
            client.get(path)
    times: list[list[float]] = [[] for _ in servers]
    for turn in range(requests):
        for k in range(len(servers)):
            which = (turn + k) % len(servers)
            client = servers[which][0]
            started = time.perf_counter()
            response = client.get(path)
            times[which].append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code}")
    return [
        Latency(size, 1000 * _quantile(taken, 0.50), 1000 * _quantile(taken, 0.99), requests)
        for (_, size), taken in zip(servers, times, strict=True)
    ]


def snapshot_home(home: Path, copy: Path) -> None:
    """A copy of a SQLite home as it is now, while its server runs: the key files and the
    database through SQLite's online backup (one consistent state)."""
    copy.mkdir(mode=0o700, parents=True)
    for item in home.iterdir():
        if item.is_file() and not item.name.startswith("ledger.db"):
            shutil.copy2(item, copy / item.name)
    source = sqlite3.connect(home / "ledger.db")
    target = sqlite3.connect(copy / "ledger.db")
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def log_size(client: httpx.Client) -> int:
    return int(client.get("/v1/log").json()["size"])


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]


def _vm_hwm_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                todo.append(child)
    return found
