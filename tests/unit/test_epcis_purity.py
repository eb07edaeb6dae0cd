"""ledger/epcis is pure core: no database, web, QR or HTTP-client library, no I/O."""

from pathlib import Path

import pytest

from tests.unit.test_purity import FORBIDDEN, ROOT, _imports

EPCIS_FILES = sorted((ROOT / "ledger" / "epcis").rglob("*.py"))


def test_the_scan_sees_the_package() -> None:
    assert len(EPCIS_FILES) >= 5


@pytest.mark.parametrize("path", EPCIS_FILES, ids=lambda p: p.name)
def test_epcis_module_is_pure(path: Path) -> None:
    assert not _imports(path) & FORBIDDEN
    source = path.read_text()
    for call in ("open(", ".read_text(", ".read_bytes(", ".write_text(", "os.environ"):
        assert call not in source, f"{path.name} calls {call}"
