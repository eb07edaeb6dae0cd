"""The fraud-detection benchmark: a seeded scenario through the HTTP API, scored per flag code.

    .venv/bin/python -m bench.detect [--chains 220] [--fraud-rate 0.12] [--seed 7]
                                     [--adversary 8] [--write]

Starts `ree-ledger serve` on a fresh SQLite home, registers the scenario's participants,
posts every step in order (batches of honest steps; each step meant to be refused alone),
and prints, per flag code, recall on injected cases and false positives on clean lots.
Then, on the same ledger, the adversary (ledger/demo/adversary.py): `--adversary`
instances of every evasion strategy and honest edge case, scored per strategy (caught, by
which codes, the target lots' verdicts) and per honest case (false flags).
`--write` also writes the tables to docs/detection.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import adversary as adversary_score
from ledger.demo import Scenario, ScenarioStep, generate, span
from ledger.demo.adversary import (
    HONEST_CASES,
    STRATEGIES,
    Adversary,
    adversary_span,
    play,
)
from ledger.home import Home
from ledger.lots.rules import FLAG_CODES
from ledger.service import scenario_run

ROOT = Path(__file__).resolve().parents[1]
REJECTED = "REJECTED"


@dataclass
class Outcome:
    """What the ledger answered for each step: flags by event id, refusals by event id."""

    flags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    entries: int = 0
    seconds: float = 0.0


def run_scenario(
    client: httpx.Client, home: Home, scenario: Scenario, *, register: bool = True
) -> Outcome:
    """Register the participants (operator-signed; `register` False: they are already, with
    the keys of the same seed), then post every step in order."""
    outcome = Outcome()
    started = time.perf_counter()
    if register:
        registry_envelopes = scenario_run.registrations(
            scenario, home.operator_key(), datetime.now(UTC)
        )
        _post_batch(client, registry_envelopes, (), outcome)
    for batch in scenario_run.batches(scenario):
        if batch.refused:
            _post_refused(client, batch.steps[0], batch.envelopes[0], outcome)
        else:
            _post_batch(client, list(batch.envelopes), batch.steps, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _post_batch(
    client: httpx.Client,
    envelopes: list[dict[str, Any]],
    steps: Sequence[ScenarioStep],
    outcome: Outcome,
) -> None:
    response = client.post("/v1/entries/batch", json={"envelopes": envelopes})
    if response.status_code != 201:
        problem = response.json()
        position = problem.get("position")
        culprit = steps[position].event["id"] if steps and position is not None else "registry"
        raise RuntimeError(f"an honest step was refused ({culprit}): {problem}")
    results = response.json()["results"]
    outcome.entries += len(results)
    for step, result in zip(steps, results if steps else [], strict=True):
        outcome.flags[step.event["id"]] = result["flags"]


def _post_refused(
    client: httpx.Client, step: ScenarioStep, envelope: dict[str, Any], outcome: Outcome
) -> None:
    response = client.post("/v1/entries", json=envelope)
    if response.status_code == 201:
        outcome.entries += 1
        outcome.flags[step.event["id"]] = response.json()["flags"]
    else:
        outcome.refused[step.event["id"]] = response.json()["code"]


@dataclass(frozen=True)
class Row:
    code: str
    injected: int
    caught: int
    false_positive_lots: int

    @property
    def recall(self) -> float | None:
        return self.caught / self.injected if self.injected else None


@dataclass(frozen=True)
class Score:
    rows: tuple[Row, ...]
    clean_lots: int
    flagged_clean_lots: int
    injected: int
    caught: int

    @property
    def recall(self) -> float:
        return self.caught / self.injected if self.injected else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.flagged_clean_lots / self.clean_lots if self.clean_lots else 0.0


def score(scenario: Scenario, outcome: Outcome) -> Score:
    """Recall per expected code on the injections; false positives as clean lots flagged."""
    injected: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    for injection in scenario.injections:
        injected[injection.code] += 1
        if injection.code == REJECTED:
            hit = injection.event_id in outcome.refused
        else:
            raised = outcome.flags.get(injection.event_id, [])
            hit = any(flag["code"] == injection.code for flag in raised)
        caught[injection.code] += hit
    flagged_by_code: dict[str, set[str]] = defaultdict(set)
    for raised in outcome.flags.values():
        for flag in raised:
            if flag["lot"] in scenario.clean_lots:
                flagged_by_code[flag["code"]].add(flag["lot"])
    flagged_clean = set().union(*flagged_by_code.values()) if flagged_by_code else set()
    rows = tuple(
        Row(code, injected[code], caught[code], len(flagged_by_code.get(code, ())))
        for code in (*FLAG_CODES, REJECTED)
    )
    return Score(
        rows,
        len(scenario.clean_lots),
        len(flagged_clean),
        sum(injected.values()),
        sum(caught.values()),
    )


def table(result: Score) -> str:
    lines = [
        "| flag code | injected | caught | recall | clean lots flagged |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result.rows:
        recall = f"{row.recall:.3f}" if row.recall is not None else "–"
        lines.append(
            f"| `{row.code}` | {row.injected} | {row.caught} | {recall} | "
            f"{row.false_positive_lots} |"
        )
    lines.append(
        f"| **all** | {result.injected} | {result.caught} | **{result.recall:.3f}** | "
        f"**{result.flagged_clean_lots} of {result.clean_lots} "
        f"({100 * result.false_positive_rate:.2f} %)** |"
    )
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served_ledger(home_dir: Path) -> Iterator[httpx.Client]:
    """`ree-ledger init` and `serve` on a fresh SQLite home; yields a client for it."""
    env = {**os.environ, "REE_LEDGER_HOME": str(home_dir)}
    env.pop("REE_LEDGER_DATABASE_URL", None)
    cli = [sys.executable, "-m", "ledger.cli.main"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            _wait_until_up(client, server)
            yield client
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"the server exited: {server.stderr.read().decode() if server.stderr else ''}"
            )
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz within 30 s")


@dataclass(frozen=True)
class AdversaryRun:
    adversary: Adversary
    outcome: Outcome
    scores: list[adversary_score.KindScore]


def run_adversary(client: httpx.Client, home: Home, seed: int, instances: int) -> AdversaryRun:
    """Every strategy and honest case `instances` times, posted after the scenario of `seed`
    (whose participants are registered), scored with the target lots' verdicts."""
    count = instances * (len(STRATEGIES) + len(HONEST_CASES))
    start = datetime.now(UTC) - adversary_span(count) - timedelta(days=1)
    adversary = play(seed, instances=instances, start=start)
    outcome = run_scenario(client, home, adversary.scenario, register=False)
    verdicts = adversary_score.verdicts(client, adversary)
    scores = adversary_score.score(adversary, outcome.flags, outcome.refused, verdicts)
    return AdversaryRun(adversary, outcome, scores)


def _attack_report(attack: AdversaryRun) -> str:
    outcome = attack.outcome
    return adversary_score.report(attack.adversary, outcome.entries, outcome.seconds, attack.scores)


def write_report(
    path: Path,
    result: Score,
    scenario: Scenario,
    outcome: Outcome,
    args: argparse.Namespace,
    attack: AdversaryRun | None = None,
) -> None:
    path.write_text(
        "# Detection benchmark\n\n"
        "Measured by `make bench-detect` (`python -m bench.detect --write`): a seeded scenario "
        "from `ledger/demo` posted through the HTTP API of a `ree-ledger serve` on "
        "SQLite, every flag taken from the write responses.\n\n"
        f"- seed {args.seed}, {args.chains} chains, fraud rate {args.fraud_rate}\n"
        f"- {len(scenario.all_lots)} lots, {outcome.entries} entries, "
        f"{len(scenario.injections)} injected frauds, {len(scenario.clean_lots)} clean lots\n"
        f"- posted in {outcome.seconds:.1f} s on {os.cpu_count()} cores\n\n"
        "Recall: injected cases whose event raised the expected code (`REJECTED`: refused by "
        "the custody state machine). False positives: clean lots (lots of chains with no "
        "injected fraud) that carry a flag of that code.\n\n"
        f"{table(result)}\n" + ("" if attack is None else f"\n{_attack_report(attack)}")
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=220)
    parser.add_argument("--fraud-rate", type=float, default=0.12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--adversary",
        type=int,
        default=0,
        help="instances of each adversary strategy and "
        "honest case, posted after the scenario (0: none)",
    )
    parser.add_argument("--write", action="store_true", help="write docs/detection.md")
    args = parser.parse_args(argv)
    start = datetime.now(UTC) - span(args.chains) - timedelta(days=1)
    scenario = generate(args.seed, chains=args.chains, fraud_rate=args.fraud_rate, start=start)
    attack = None
    with tempfile.TemporaryDirectory() as tmp, served_ledger(Path(tmp) / "home") as client:
        home = Home(Path(tmp) / "home")
        outcome = run_scenario(client, home, scenario)
        if args.adversary:
            attack = run_adversary(client, home, args.seed, args.adversary)
    result = score(scenario, outcome)
    print(f"{len(scenario.all_lots)} lots, {outcome.entries} entries, {outcome.seconds:.1f} s")
    print(table(result))
    if attack is not None:
        print(adversary_score.strategy_table(attack.scores))
        print(adversary_score.honest_table(attack.scores))
    if args.write:
        write_report(ROOT / "docs" / "detection.md", result, scenario, outcome, args, attack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
