"""The pure core imports no database, web, QR or HTTP-client library and does no I/O."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ["ledger/tlog", "ledger/lots", "ledger/verify", "ledger/demo"]
FORBIDDEN = {
    "sqlmodel",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "qrcode",
    "httpx",
    "uvicorn",
    "psycopg",
}
PURE_FILES = sorted(path for folder in PURE for path in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_nothing_impure(path: Path) -> None:
    assert not _imports(path) & FORBIDDEN


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_opens_no_files(path: Path) -> None:
    source = path.read_text()
    for call in ("open(", ".read_text(", ".read_bytes(", ".write_text(", "os.environ"):
        assert call not in source, f"{path.name} calls {call}"


def test_the_scan_sees_the_core() -> None:
    assert len(PURE_FILES) >= 12
