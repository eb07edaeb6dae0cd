"""docs/epcis.md's worked example is what the code produces, byte for byte in every value."""

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.epcis.capture import read_events
from ledger.epcis.export import LedgerEntry, epcis_event
from ledger.epcis.hashid import pre_hash_string
from ledger.epcis.vocabulary import REE_NAMESPACE
from ledger.service.epcis import load_validator
from ledger.tlog import keys
from ledger.verify.entry import parse_entry
from tests.vectors import vector_path

DOC = Path(__file__).resolve().parents[2] / "docs" / "epcis.md"
ORIGIN = "ree-ledger.local/log"


def _block(marker: str) -> str:
    match = re.search(rf"<!-- example:{marker} -->\n```\w+\n(.*?)\n```", DOC.read_text(), re.S)
    assert match, f"docs/epcis.md has no {marker} example"
    return match.group(1)


def _export() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_block("export"))
    return document


def test_example_key_id_is_the_documented_key() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    assert keys.key_id("baotou-mine", keys.raw_public_key(key)) == "baotou-mine/56475aa75463474c"


def test_example_export_is_the_rendering_of_its_entries() -> None:
    for event in _export()["epcisBody"]["eventList"]:
        entry = parse_entry(event["ree:envelope"])
        rendered = epcis_event(
            LedgerEntry(entry.event, event["ree:envelope"], entry.event_hash, event["ree:index"]),
            ORIGIN,
        )
        assert rendered == event


def test_example_export_is_schema_valid_and_capturable() -> None:
    validator = load_validator(vector_path("epcis", "EPCIS-JSON-Schema.json"))
    assert validator.problems(_export()) == []
    assert len(read_events(_export(), ORIGIN, "baotou-mine")) == 3


def test_example_pre_hash_string_gives_the_assay_event_id() -> None:
    assay = _export()["epcisBody"]["eventList"][2]
    text = _block("prehash")
    assert pre_hash_string(assay, {"ree": REE_NAMESPACE}) == text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert assay["eventID"] == f"ni:///sha-256;{digest}?ver=CBV2.0"
