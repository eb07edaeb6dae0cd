"""A small supply chain with every lot event type, and signed EPCIS capture requests.

Shared by the EPCIS API tests; GS1's schema comes from the vectors (tests/vectors.py), installed
in the app's home as `ree-ledger epcis install-schema` does.
"""

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ledger.epcis.export import LedgerEntry, epcis_document, epcis_event
from ledger.epcis.schema import EpcisValidator
from ledger.epcis.vocabulary import DOCUMENT_PAYLOAD_TYPE
from ledger.service.epcis import load_validator
from ledger.service.epcis_schema import home_schema_path, install_schema
from ledger.tlog.envelope import sign_envelope
from ledger.verify.entry import parse_entry
from tests.api.conftest import ORIGIN, Ledger
from tests.support import Party, decide, declare, event, extract, receive, ship, transform
from tests.vectors import vector_path

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEDGER_TYPES = (
    "lot.extract", "lot.ship", "lot.receive", "lot.transform", "lot.assay",
    "lot.ship", "lot.receive", "export.declare", "customs.decide",
)  # fmt: skip


def gs1_schema() -> Path:
    """GS1's EPCIS-JSON-Schema.json among the vectors (the calling test skips without them)."""
    return vector_path("epcis", "EPCIS-JSON-Schema.json")


def gs1_validator() -> EpcisValidator:
    """GS1's schema as capture applies it, read once per file."""
    return _validator(gs1_schema())


@cache
def _validator(path: Path) -> EpcisValidator:
    return load_validator(path)


def use_gs1_schema(client: TestClient) -> None:
    """Install GS1's schema in the app's home; the running app applies it from then on."""
    home = client.app.state.settings.home  # type: ignore[attr-defined]
    install_schema(gs1_schema(), home_schema_path(home))


def assay(actor: Party, heads: dict[str, str], lot: str) -> dict[str, Any]:
    return event(
        actor.id,
        "lot.assay",
        prev={lot: heads[lot]},
        lot=lot,
        composition_ppm={"Nd": 68000, "Pr": 20000, "Dy": 900},
        method="ICP-MS",
        lab="Gansu Assay Lab",
        certificate="CERT-77",
    )


def chain_events(cast: dict[str, Party], heads: dict[str, str]) -> list[tuple[Party, Any]]:
    """(signer, event factory) in order; each factory reads the heads when it is called."""
    mine, plant, exporter, customs = cast["mine"], cast["plant"], cast["exporter"], cast["customs"]
    return [
        (mine, lambda: extract(mine, "ORE-1")),
        (mine, lambda: ship(mine, heads, plant.id, [("ORE-1", 1_000_000)])),
        (plant, lambda: receive(plant, heads, mine.id, [("ORE-1", 999_500)])),
        (
            plant,
            lambda: transform(
                plant, heads, [("ORE-1", 999_500)], [("CON-1", "concentrate", 123_457)]
            ),
        ),
        (plant, lambda: assay(plant, heads, "CON-1")),
        (plant, lambda: ship(plant, heads, exporter.id, [("CON-1", 123_457)])),
        (exporter, lambda: receive(exporter, heads, plant.id, [("CON-1", 123_457)])),
        (exporter, lambda: declare(exporter, heads, "DECL/2026/1", ["CON-1"], 123_457)),
        (customs, lambda: decide(customs, heads, "DECL/2026/1", ["CON-1"], "release")),
    ]


def build_chain(ledger: Ledger, cast: dict[str, Party]) -> list[dict[str, Any]]:
    """Post the chain entry by entry; returns the answers."""
    return [ledger.post(signer, make()) for signer, make in chain_events(cast, ledger.heads)]


def document_of(envelopes: list[dict[str, Any]]) -> dict[str, Any]:
    """The capture document for signed ledger envelopes, as a participant would build it."""
    events = []
    for envelope in envelopes:
        entry = parse_entry(envelope)
        events.append(epcis_event(LedgerEntry(entry.event, envelope, entry.event_hash), ORIGIN))
    return epcis_document(events, NOW)


def capture_request(party: Party, document: dict[str, Any]) -> dict[str, Any]:
    payload = json.dumps(document).encode("utf-8")
    return sign_envelope(payload, party.key, party.keyid, DOCUMENT_PAYLOAD_TYPE).to_json()


def test_chain_posts_every_lot_event_type(ledger: Ledger, cast: dict[str, Party]) -> None:
    answers = build_chain(ledger, cast)
    # After five registrations and the authority's three entries (conftest.grant).
    assert [a["index"] for a in answers] == list(range(8, 17))
