"""The project's own packages import downwards only: every module of ledger/ and api/ imports
its own package or the layers below it, never its own layer's other packages or a layer above.
Imports under `if TYPE_CHECKING:` and inside functions count as well."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Lowest first. A package may import its own modules and those of every layer below its own.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("ledger", "ledger.errors"),  # the package's own __init__; the error family every layer raises
    ("ledger.tlog",),  # transparency-log machinery (pure)
    ("ledger.lots", "ledger.qr"),  # the life of a lot; the URL a lot's label encodes (pure)
    ("ledger.verify", "ledger.demo", "ledger.config"),  # steps (pure); scenarios; settings
    ("ledger.epcis",),  # EPCIS mapping (pure); capture checks an entry with ledger.verify
    ("ledger.store",),  # tables, engines, the log identity, the sequencer
    ("ledger.home", "ledger.runtime"),  # a home's keys and database; the process's gc tuning
    ("ledger.service",),  # ingest, queries, audit and its worker pool, the demo's seeding
    ("api",),  # the ledger over HTTP
    ("ledger.witness",),  # a witness over HTTP, with api's problem+json and body limit
    ("ledger.cli",),  # every verb, the witness's included
)
LAYER = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}
MODULES = sorted([*(ROOT / "ledger").rglob("*.py"), *(ROOT / "api").rglob("*.py")])


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(name: str) -> str | None:
    """The entry of LAYERS a dotted name belongs to; None for a third-party name."""
    parts = name.split(".")
    if parts[0] == "api":
        return "api"
    if parts[0] == "ledger":
        return ".".join(parts[:2])
    return None


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement brings in (`from a import b` as `a.b`, which is a
    module or a name in `a`: both are in a's package)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        here = module.split(".") if is_package else module.split(".")[:-1]
        anchor = here[: len(here) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    return [f"{base}.{alias.name}" for alias in node.names]


def violations(path: Path, source: str) -> list[str]:
    """Each import of `source` (the module at `path`) that reaches up or sideways, as
    `path:line: module (layer) imports name (layer)`."""
    module = _module(path)
    own = _package(module)
    assert own in LAYER, f"{module}: its package {own} has no place in LAYERS"
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for name in _imported(node, module, path.name == "__init__.py"):
            target = _package(name)
            if target is None or target == own or LAYER.get(target, len(LAYERS)) < LAYER[own]:
                continue
            rank = LAYER.get(target, "?")
            text = f"{module} (layer {LAYER[own]}) imports {name} (layer {rank}, {target})"
            found.append((node.lineno, f"{path.relative_to(ROOT)}:{node.lineno}: {text}"))
    return [text for _, text in sorted(found)]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    found = violations(path, path.read_text())
    assert not found, "\n".join(found)


def test_every_package_has_a_layer() -> None:
    packages = {_package(_module(path)) for path in MODULES}
    assert packages == set(LAYER), (
        f"unplaced: {packages - set(LAYER)}, gone: {set(LAYER) - packages}"
    )


def test_an_upward_import_is_found_under_type_checking_and_relative() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import entry\n"
        "if TYPE_CHECKING:\n"
        "    from ledger.service.audit import audit\n"
        "from ..lots import records\n"
        "from ..store import tables\n"
        "from ledger import demo\n"
    )
    found = violations(ROOT / "ledger" / "verify" / "lot.py", source)
    assert [line.split(": ", 1)[0] for line in found] == [
        "ledger/verify/lot.py:4",
        "ledger/verify/lot.py:6",
        "ledger/verify/lot.py:7",
    ]
    assert found[0].endswith(
        "ledger.verify.lot (layer 3) imports ledger.service.audit.audit (layer 7, ledger.service)"
    )


def test_the_scan_sees_the_project() -> None:
    assert len(MODULES) >= 150
