"""Documents that tell a schema capture can apply from another: GS1's EPCIS 2.0 JSON Schema
accepts the ledger's own rendering of every lot event type and refuses what is not EPCIS.
"""

import hashlib
from datetime import UTC, datetime
from typing import Any

from ledger.epcis.export import LedgerEntry, epcis_document, epcis_event
from ledger.lots.events import parse_event
from ledger.tlog.encoding import b64encode, canonical
from ledger.tlog.envelope import EVENT_PAYLOAD_TYPE

ORIGIN = "probe.ree-ledger.local/log"
_TIME = "2026-01-01T00:00:00Z"
_HEAD = "0" * 64
_LOT = {"id": "ORE-1", "product": "ore", "mass_g": 1_500, "composition_ppm": {"Nd": 9500}}
# One payload of each lot event type, with every optional member the rendering shows.
SAMPLE_PAYLOADS: tuple[dict[str, Any], ...] = (
    {"type": "lot.extract", "lot": _LOT, "deposit": "bastnaesite",
     "site": {"id": "pit-1", "name": "Pit One", "country": "CN", "geo": "geo:41.78,109.97"}},
    {"type": "lot.transform", "process": "beneficiation", "prev": {"ORE-1": _HEAD},
     "inputs": [{"lot": "ORE-1", "mass_g": 1_500}], "outputs": [{**_LOT, "id": "CON-1"}]},
    {"type": "lot.assay", "lot": "CON-1", "prev": {"CON-1": _HEAD}, "method": "ICP-MS",
     "lab": "Lab", "certificate": "C-1", "composition_ppm": {"Nd": 68000, "Pr": 20000}},
    {"type": "lot.ship", "to": "plant", "prev": {"CON-1": _HEAD},
     "lots": [{"lot": "CON-1", "mass_g": 1_500}], "transport": {"mode": "rail", "document": "B-1"}},
    {"type": "lot.receive", "from": "mine", "prev": {"CON-1": _HEAD},
     "lots": [{"lot": "CON-1", "mass_g": 1_499}]},
    {"type": "export.declare", "prev": {"CON-1": _HEAD},
     "declaration": {"id": "D-1", "lots": ["CON-1"], "hs_code": "280530", "description": "Oxide",
                     "declared_mass_g": 1_499, "destination": "DE", "licence": "L-1"}},
    {"type": "customs.decide", "prev": {"CON-1": _HEAD}, "declaration": "D-1",
     "decision": "release", "note": "ok"},
)  # fmt: skip


def ledger_document() -> dict[str, Any]:
    """An EPCISDocument of the ledger's rendering of every lot event type, as an export has it."""
    events = []
    for index, fields in enumerate(SAMPLE_PAYLOADS, start=1):
        payload = canonical(
            {"id": f"p-{index}", "actor": "mine", "time": _TIME, "prev": {}, **fields}
        )
        envelope = {
            "payloadType": EVENT_PAYLOAD_TYPE,
            "payload": b64encode(payload),
            "signatures": [{"keyid": "mine/0000000000000000", "sig": b64encode(bytes(64))}],
        }
        entry = LedgerEntry(
            parse_event(payload), envelope, hashlib.sha256(payload).hexdigest(), index
        )
        events.append(epcis_event(entry, ORIGIN))
    return epcis_document(events, datetime(2026, 1, 1, tzinfo=UTC))


def foreign_documents() -> dict[str, Any]:
    """Documents any EPCIS 2.0 JSON Schema refuses, by what is wrong with them."""
    bad_time = ledger_document()
    bad_time["epcisBody"]["eventList"][0]["eventTime"] = "yesterday"
    bad_action = ledger_document()
    bad_action["epcisBody"]["eventList"][0]["action"] = "TAKE"
    bare = ledger_document()
    del bare["epcisBody"]
    return {"an eventTime that is not a date-time": bad_time,
            "an action that is not ADD, OBSERVE or DELETE": bad_action,
            "a document without epcisBody": bare}  # fmt: skip
