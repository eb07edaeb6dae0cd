"""Where the public conformance vectors live, and what a test does when they are absent.

Looked for at $REE_LEDGER_VECTORS, else ../shared/vectors beside the project root;
`make vectors` fetches them into .vectors/ (checked against vectors.manifest) for a clone
that has neither. A test that needs them calls `vector_path(...)` (inside the test or a
fixture, never at import): where no directory exists the test is skipped, or fails when
$REE_LEDGER_REQUIRE_VECTORS=1 (CI).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
ENV_DIR = "REE_LEDGER_VECTORS"
ENV_REQUIRE = "REE_LEDGER_REQUIRE_VECTORS"
FETCHED = PROJECT / ".vectors"
SIBLING = PROJECT.parent / "shared" / "vectors"
SKIP_REASON = "conformance vectors not found"


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


def vectors_dir() -> Path:
    """The vectors directory; skips the calling test (fails it under $REE_LEDGER_REQUIRE_VECTORS)
    when there is none."""
    found = find_vectors()
    if found is None:
        looked = ", ".join(str(path) for path in candidates())
        if required():
            pytest.fail(f"{ENV_REQUIRE}=1 but no vectors directory: looked in {looked}")
        pytest.skip(SKIP_REASON)
    return found


def vector_path(*parts: str) -> Path:
    """A file or directory inside the vectors directory (see vectors_dir)."""
    return vectors_dir().joinpath(*parts)
