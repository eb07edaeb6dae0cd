"""The long reliability runs: the tests of tests/reliability/ at stress scale.

    .venv/bin/python bench/stress.py [--kills 20] [--threads 16] [--events 40] [--pairs 64]
                                     [--fuzz-examples 150] [--parser-examples 3000]
                                     [--backends sqlite,postgresql] [--only crash,fuzz] [--seed N]

The same tests as `make test` runs, with the REE_LEDGER_STRESS_* variables that
tests/reliability/harness.py reads set to large values: `ree-ledger serve` SIGKILLed at least
20 times per backend while a client posts batches; four servers and sixteen clients with many
more rival events; thousands of schemathesis and hypothesis cases. Every request loop is
bounded in count and time, and every server it starts listens on 127.0.0.1 only and is
stopped when its test ends. Prints each test's outcome and duration; exits with pytest's status.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests" / "reliability"
# --only NAME -> the test modules it runs
GROUPS = {
    "crash": ["test_crash.py"],
    "concurrency": ["test_concurrency.py"],
    "tampering": ["test_tampering.py", "test_forgery.py"],
    "fuzz": ["test_hostile_input.py", "test_parser_fuzz.py"],
    "authorisation": ["test_authorisation.py", "test_read_access.py"],
    "hygiene": ["test_hygiene.py"],
}
MIN_KILLS = 20


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=MIN_KILLS, help="SIGKILLs per backend")
    parser.add_argument(
        "--uptime-ms", type=int, default=1500, help="longest a server lives between kills"
    )
    parser.add_argument("--threads", type=int, default=16, help="client threads (concurrency)")
    parser.add_argument("--events", type=int, default=40, help="independent events per thread")
    parser.add_argument("--pairs", type=int, default=64, help="pairs of rival events on one lot")
    parser.add_argument(
        "--fuzz-examples",
        type=int,
        default=150,
        help="schemathesis cases per operation, mode and variant (x10 for the body fuzzers)",
    )
    parser.add_argument(
        "--parser-examples", type=int, default=3000, help="hypothesis examples per parser property"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed (default: the clock)")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="sqlite, postgresql or both"
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated groups of {', '.join(GROUPS)} (default all)"
    )
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    args = parser.parse_args(argv)
    if args.kills < MIN_KILLS:
        parser.error(f"--kills {args.kills}: the stress run kills the server at least {MIN_KILLS}×")
    if args.threads < 2 or args.pairs < 1:
        parser.error("--threads needs 2 or more and --pairs 1 or more")
    unknown = [name for name in args.only.split(",") if name and name not in GROUPS]
    if unknown:
        parser.error(f"--only: unknown group(s) {unknown}; choose from {', '.join(GROUPS)}")
    return args


def _environment(args: argparse.Namespace) -> dict[str, str]:
    seed = args.seed if args.seed is not None else int(time.time())
    return {
        **os.environ,
        "REE_LEDGER_STRESS_KILLS": str(args.kills),
        "REE_LEDGER_STRESS_UPTIME_MS": str(args.uptime_ms),
        "REE_LEDGER_STRESS_THREADS": str(args.threads),
        "REE_LEDGER_STRESS_EVENTS": str(args.events),
        "REE_LEDGER_STRESS_PAIRS": str(args.pairs),
        "REE_LEDGER_STRESS_FUZZ_EXAMPLES": str(args.fuzz_examples),
        "REE_LEDGER_STRESS_PARSER_EXAMPLES": str(args.parser_examples),
        "REE_LEDGER_STRESS_SEED": str(seed),
        "REE_LEDGER_TEST_BACKENDS": args.backends,
    }


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    env = _environment(args)
    chosen = [name for name in args.only.split(",") if name] or list(GROUPS)
    modules = [str(TESTS / module) for name in chosen for module in GROUPS[name]]
    command = [sys.executable, "-m", "pytest", *modules, "-p", "no:cacheprovider", "-s", "-rA"]
    command += ["--durations=0", "--durations-min=1.0", *(["-x"] if args.exitfirst else [])]
    print(f"stress: seed {env['REE_LEDGER_STRESS_SEED']}, backends {args.backends}, {chosen}")
    started = time.monotonic()
    status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    print(f"stress: pytest exited {status} after {time.monotonic() - started:.0f}s")
    return status


if __name__ == "__main__":
    sys.exit(main())
