"""Where the public conformance vectors live, and what a test does when they are absent.

Looked for at $REE_LEDGER_VECTORS, else ../shared/vectors beside the project root, else
.vectors/ (git-ignored), which `make vectors` fills from the upstream repositories (checked
against tests/vectors.manifest.json). A test that needs them calls `vector_path(...)` or
`vectors_dir()` inside the test or a fixture, never at import; a parametrized test takes its
cases from `vector_files(...)` or `vector_cases(...)`, which never fail at collection. Where the
vectors are absent the test is skipped with SKIP_REASON (the Plugin below, which
tests/conftest.py registers, counts these and says at the end of the run how to get them), or
fails when $REE_LEDGER_REQUIRE_VECTORS=1 (CI).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

PROJECT = Path(__file__).resolve().parents[1]
ENV_DIR = "REE_LEDGER_VECTORS"
ENV_REQUIRE = "REE_LEDGER_REQUIRE_VECTORS"
FETCHED = PROJECT / ".vectors"
SIBLING = PROJECT.parent / "shared" / "vectors"
SKIP_REASON = "conformance vectors not found"
# The mark a parametrized case carries when there are no vectors: the Plugin skips it (or
# fails it under $REE_LEDGER_REQUIRE_VECTORS) before it runs.
MISSING = "vectors_missing"


def candidates() -> list[Path]:
    """The directories looked in, in order."""
    if os.environ.get(ENV_DIR):
        return [Path(os.environ[ENV_DIR])]
    return [SIBLING, FETCHED]


def find_vectors() -> Path | None:
    """The first candidate directory that exists, or None."""
    return next((path for path in candidates() if path.is_dir()), None)


def required() -> bool:
    return os.environ.get(ENV_REQUIRE, "") not in ("", "0")


def looked_in() -> str:
    return ", ".join(str(path) for path in candidates())


def _absent(what: str) -> NoReturn:
    if required():
        pytest.fail(f"{ENV_REQUIRE}=1 but {what}", pytrace=False)
    pytest.skip(SKIP_REASON)


ABSENT_LINE = _absent.__code__.co_firstlineno - 1  # 0-based, as pytest's reports count


def vectors_dir() -> Path:
    """The vectors directory; skips the calling test (fails it under $REE_LEDGER_REQUIRE_VECTORS)
    when there is none."""
    found = find_vectors()
    if found is None:
        _absent(f"no vectors directory: looked in {looked_in()}")
    return found


def vector_path(*parts: str) -> Path:
    """A file or directory inside the vectors directory (see vectors_dir); a missing one (a
    partial .vectors/) skips or fails the test the same way."""
    path = vectors_dir().joinpath(*parts)
    if not path.exists():
        _absent(f"{path} does not exist")
    return path


def _missing_case(argnames: int = 1) -> Any:
    return pytest.param(*[None] * argnames, id="no-vectors", marks=pytest.mark.vectors_missing)


def skip_missing_case() -> None:
    """Skips (or fails) a "no-vectors" case: called by the Plugin before it runs."""
    _absent(f"a vector file or directory is missing under {vectors_dir()}")


def vector_files(*parts: str, pattern: str = "*.json", recursive: bool = False) -> list[Any]:
    """Parametrize cases: the files under `parts` matching `pattern`, sorted, each with its
    path relative to `parts` as id; one "no-vectors" case, skipped before it runs, if none."""
    found = find_vectors()
    base = found.joinpath(*parts) if found else None
    paths = []
    if base is not None and base.is_dir():
        paths = sorted(base.rglob(pattern) if recursive else base.glob(pattern))
    if base is None or not paths:
        return [_missing_case()]
    return [pytest.param(path, id=str(path.relative_to(base))) for path in paths]


def vector_cases(load: Callable[[Path], list[Any]], *parts: str, argnames: int = 1) -> list[Any]:
    """Parametrize cases built by `load` from the file at `parts`; one "no-vectors" case, skipped
    before it runs, when the file is absent."""
    found = find_vectors()
    path = found.joinpath(*parts) if found else None
    if path is None or not path.is_file():
        return [_missing_case(argnames)]
    return load(path)


# --- the pytest plugin (registered by tests/conftest.py) ----------------------------------


def _skipped_for_vectors(report: pytest.TestReport) -> bool:
    return isinstance(report.longrepr, tuple) and SKIP_REASON in report.longrepr[2]


class Plugin:
    """Skips the "no-vectors" cases, reports every skip for want of the vectors at one place
    (so that -ra shows one line for all of them), and says at the very end of the run how many
    were skipped, where the vectors were looked for and how to get them."""

    @pytest.hookimpl
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if item.get_closest_marker(MISSING):
            skip_missing_case()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self) -> Iterator[None]:
        report = yield
        if (
            isinstance(report, pytest.TestReport)
            and report.skipped
            and _skipped_for_vectors(report)
        ):
            assert isinstance(report.longrepr, tuple)
            report.longrepr = (__file__, ABSENT_LINE, report.longrepr[2])
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
        yield
        stats = terminalreporter.stats.get("skipped", [])
        skipped = sum(1 for report in stats if _skipped_for_vectors(report))
        if skipped:
            found = find_vectors()
            where = f"in {looked_in()}" if found is None else f"(files missing from {found})"
            terminalreporter.write_line(
                f"{skipped} tests skipped: {SKIP_REASON} {where}; "
                f"run `make vectors` or set {ENV_DIR}=DIR",
                yellow=True,
                bold=True,
            )


def register(config: pytest.Config) -> None:
    """Called from pytest_configure after pytest's terminal reporter is registered: a plugin
    registered later wraps it, so the summary line comes after -ra's list."""
    config.addinivalue_line("markers", f"{MISSING}: the case standing for absent vectors")
    config.pluginmanager.register(Plugin(), "ree-ledger-vectors")
