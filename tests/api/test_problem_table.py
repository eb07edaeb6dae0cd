"""One refusal of each kind across the API: its status, code, type URL and title, pinned, so the
error family's single mapping (api/errors.py) answers exactly as the routers did before it."""

from typing import Any

from api.errors import STATUS, status_of
from ledger.errors import Kind, LedgerError
from tests.api.conftest import Ledger
from tests.support import Party, event, extract, transform

BASE = "https://ree-ledger.dev/problems/"


def _asks(ledger: Ledger, cast: dict[str, Party]) -> dict[str, Any]:
    mine, plant, customs = cast["mine"], cast["plant"], cast["customs"]
    ledger.post(mine, extract(mine, "ORE-1"))
    client = ledger.client
    repeat = extract(mine, "ORE-2")
    ledger.post(mine, repeat)
    return {
        "malformed_json": client.post("/v1/entries", content=b"{not json"),
        "unknown_field": client.post(
            "/v1/entries", json={**mine.envelope(extract(mine, "ORE-3")), "colour": "red"}
        ),
        "unknown_payload_field": client.post(
            "/v1/entries", json=mine.envelope({**extract(mine, "ORE-3"), "colour": "red"})
        ),
        "unknown_event_type": client.post(
            "/v1/entries", json=mine.envelope({**extract(mine, "ORE-3"), "type": "lot.nope"})
        ),
        "unknown_lot_event": client.post(
            "/v1/entries",
            json=mine.envelope(
                transform(mine, {"NOPE": "0" * 64}, [("NOPE", 1)], [("C-9", "concentrate", 1)])
            ),
        ),
        "not_custodian": client.post(
            "/v1/entries",
            json=plant.envelope(
                transform(plant, ledger.heads, [("ORE-1", 1)], [("C-9", "concentrate", 1)])
            ),
        ),
        "duplicate": client.post("/v1/entries", json=mine.envelope(repeat)),
        "role": client.post(
            "/v1/entries",
            json=mine.envelope(
                event(mine.id, "participant.key_revoke", participant=plant.id, keyid=plant.keyid)
            ),
        ),
        "empty_batch": client.post("/v1/entries/batch", json={"envelopes": []}),
        "unknown_lot_read": client.get("/v1/lots/NOPE-1"),
        "not_your_lot": client.get("/v1/lots/ORE-1", headers=ledger.auth(plant)),
        "token_required": client.get("/v1/flags"),
        "bad_authorization": client.get("/v1/flags", headers={"Authorization": "Basic x"}),
        "oversight_only": client.get("/v1/flags", headers=ledger.auth(plant)),
        "unknown_flag_code": client.get("/v1/flags?code=nope", headers=ledger.auth(customs)),
        "bad_range": client.get("/v1/proofs/inclusion?index=5&size=2"),
        "unknown_entry": client.get("/v1/entries/999", headers=ledger.auth(customs)),
        "unknown_event_type_query": client.get(
            "/v1/epcis/events?type=Nope", headers=ledger.auth(customs)
        ),
        "no_route": client.get("/v1/nowhere"),
        "invalid_request": client.get("/v1/proofs/inclusion?index=-1&size=1"),
    }


PINNED: dict[str, tuple[int, str]] = {
    "malformed_json": (400, "malformed_json"),
    "unknown_field": (400, "malformed_envelope"),
    "unknown_payload_field": (400, "unknown_field"),
    "unknown_event_type": (400, "unknown_event_type"),
    "unknown_lot_event": (404, "unknown_lot"),
    "not_custodian": (403, "not_custodian"),
    "duplicate": (409, "duplicate_event_id"),
    "role": (403, "role_not_allowed"),
    "empty_batch": (422, "empty_batch"),
    "unknown_lot_read": (404, "unknown_lot"),
    "not_your_lot": (403, "not_your_lot"),
    "token_required": (401, "token_required"),
    "bad_authorization": (401, "bad_authorization"),
    "oversight_only": (403, "oversight_only"),
    "unknown_flag_code": (422, "unknown_flag_code"),
    "bad_range": (422, "bad_range"),
    "unknown_entry": (404, "unknown_entry"),
    "unknown_event_type_query": (422, "unknown_event_type"),
    "no_route": (404, "not_found"),
    "invalid_request": (422, "invalid_request"),
}


def test_each_refusal_keeps_its_status_code_and_type(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    got: dict[str, tuple[int, str]] = {}
    for name, response in _asks(ledger, cast).items():
        body = response.json()
        assert response.headers["content-type"].startswith("application/problem+json"), name
        assert body["status"] == response.status_code, name
        assert body["type"] == BASE + body["code"].replace("_", "-"), name
        assert body["title"] == body["code"].replace("_", " ").capitalize(), name
        got[name] = (response.status_code, body["code"])
    assert got == PINNED


def test_every_kind_has_one_status() -> None:
    assert set(STATUS) == set(Kind)
    assert [status_of(LedgerError(kind, "x", "y")) for kind in Kind] == [
        400,
        422,
        413,
        401,
        403,
        404,
        409,
        503,
    ]
