"""Where the shared test vectors live: ../shared/vectors beside the project root."""

from pathlib import Path


def vectors_dir() -> Path:
    """Return the shared vectors directory (read-only reference data)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
