"""Bad input: every refusal is a 4xx problem+json, and the log is left exactly as it was."""

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from ledger.tlog.encoding import b64encode, canonical
from ledger.tlog.envelope import EVENT_PAYLOAD_TYPE, pae
from tests.api.conftest import Ledger
from tests.support import Party, decide, declare, event, extract, receive, ship, transform


def _state(ledger: Ledger) -> tuple[int, str]:
    return ledger.size(), ledger.client.get("/v1/checkpoint").text


def _assert_refused(
    ledger: Ledger, response: Any, status: int, code: str, before: tuple[int, str]
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "code"} <= problem.keys()
    assert problem["status"] == status and problem["code"] == code, problem
    assert _state(ledger) == before
    return problem


def _raw_envelope(party: Party, payload: bytes) -> dict[str, Any]:
    signature = party.key.sign(pae(EVENT_PAYLOAD_TYPE, payload))
    return {
        "payloadType": EVENT_PAYLOAD_TYPE,
        "payload": b64encode(payload),
        "signatures": [{"keyid": party.keyid, "sig": b64encode(signature)}],
    }


@pytest.fixture
def mine(ledger: Ledger, cast: dict[str, Party]) -> Party:
    ledger.post(cast["mine"], extract(cast["mine"], "ORE-1"))
    return cast["mine"]


PAYLOADS: dict[str, tuple[Callable[[dict[str, Any]], bytes], int, str]] = {
    "unknown_field": (lambda e: canonical({**e, "colour": "red"}), 400, "unknown_field"),
    "float": (
        lambda e: canonical(e).replace(b'"mass_g":1000000', b'"mass_g":1000000.5'),
        400,
        "malformed_payload",
    ),
    "nan": (
        lambda e: canonical(e).replace(b'"mass_g":1000000', b'"mass_g":NaN'),
        400,
        "malformed_payload",
    ),
    "not_canonical": (lambda e: json.dumps(e, indent=1).encode(), 400, "malformed_payload"),
    "duplicate_key": (lambda e: b'{"id":"a",' + canonical(e)[1:], 400, "malformed_payload"),
}


@pytest.mark.parametrize("case", sorted(PAYLOADS))
def test_malformed_payload_is_refused(ledger: Ledger, mine: Party, case: str) -> None:
    make_payload, status, code = PAYLOADS[case]
    payload = make_payload(extract(mine, "ORE-2"))
    before = _state(ledger)
    response = ledger.client.post("/v1/entries", json=_raw_envelope(mine, payload))
    problem = _assert_refused(ledger, response, status, code, before)
    assert problem["detail"]


BAD_BASE64 = {
    "url_safe_alphabet": lambda b64: b64[:8] + "-_" + b64[10:],
    "line_break": lambda b64: b64[:8] + "\n" + b64[8:],
    "missing_padding": lambda b64: b64.rstrip("=") if b64.endswith("=") else b64[:-1],
}


@pytest.mark.parametrize("case", sorted(BAD_BASE64))
def test_wrong_base64_is_refused(ledger: Ledger, mine: Party, case: str) -> None:
    envelope = mine.envelope(extract(mine, "ORE-2"))
    envelope["payload"] = BAD_BASE64[case](envelope["payload"])
    before = _state(ledger)
    response = ledger.client.post("/v1/entries", json=envelope)
    problem = _assert_refused(ledger, response, 400, "malformed_envelope", before)
    assert "base64" in problem["detail"]


def test_oversized_body_is_refused(ledger: Ledger, mine: Party) -> None:
    before = _state(ledger)
    response = ledger.client.post(
        "/v1/entries",
        content=b'{"payload":"' + b"A" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    _assert_refused(ledger, response, 413, "body_too_large", before)


def test_deep_nesting_is_refused(ledger: Ledger, mine: Party) -> None:
    before = _state(ledger)
    body = b"[" * 100_000 + b"]" * 100_000
    response = ledger.client.post(
        "/v1/entries", content=body, headers={"content-type": "application/json"}
    )
    _assert_refused(ledger, response, 400, "malformed_json", before)


def test_unknown_envelope_field_is_refused(ledger: Ledger, mine: Party) -> None:
    envelope = {**mine.envelope(extract(mine, "ORE-2")), "extra": 1}
    before = _state(ledger)
    _assert_refused(
        ledger, ledger.client.post("/v1/entries", json=envelope), 400, "malformed_envelope", before
    )


def test_unknown_lot_is_refused(ledger: Ledger, mine: Party) -> None:
    before = _state(ledger)
    bad = transform(mine, {"NOPE": "0" * 64}, [("NOPE", 10)], [("CON-9", "concentrate", 5)])
    problem = _assert_refused(
        ledger,
        ledger.client.post("/v1/entries", json=mine.envelope(bad)),
        404,
        "unknown_lot",
        before,
    )
    assert "NOPE" in problem["detail"]


def test_wrong_custodian_is_refused(ledger: Ledger, mine: Party, cast: dict[str, Party]) -> None:
    plant = cast["plant"]
    before = _state(ledger)
    bad = transform(plant, ledger.heads, [("ORE-1", 10)], [("CON-9", "concentrate", 5)])
    problem = _assert_refused(
        ledger,
        ledger.client.post("/v1/entries", json=plant.envelope(bad)),
        403,
        "not_custodian",
        before,
    )
    assert "ORE-1" in problem["detail"]
    # The refusal says what is wrong, not who holds the lot (DESIGN §6).
    assert mine.id not in problem["detail"]


def test_revoked_key_is_refused(ledger: Ledger, mine: Party) -> None:
    revoke = event("operator", "participant.key_revoke", participant=mine.id, keyid=mine.keyid)
    ledger.post(ledger.operator, revoke)
    before = _state(ledger)
    response = ledger.client.post("/v1/entries", json=mine.envelope(extract(mine, "ORE-2")))
    _assert_refused(ledger, response, 403, "revoked_key", before)


def test_unknown_key_is_refused(ledger: Ledger, mine: Party) -> None:
    stranger = Party(mine.id)  # same name, a key the registry never saw
    before = _state(ledger)
    response = ledger.client.post("/v1/entries", json=stranger.envelope(extract(stranger, "ORE-2")))
    _assert_refused(ledger, response, 403, "unknown_key", before)


def test_key_of_another_participant_is_refused(
    ledger: Ledger, mine: Party, cast: dict[str, Party]
) -> None:
    plant = cast["plant"]
    forged = extract(mine, "ORE-2")  # actor is the mine, signed with the plant's key
    before = _state(ledger)
    response = ledger.client.post("/v1/entries", json=plant.envelope(forged))
    _assert_refused(ledger, response, 403, "actor_not_key_owner", before)


def test_bad_signature_is_refused(ledger: Ledger, mine: Party) -> None:
    envelope = mine.envelope(extract(mine, "ORE-2"))
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[0] ^= 1
    envelope["signatures"][0]["sig"] = b64encode(bytes(sig))
    before = _state(ledger)
    _assert_refused(
        ledger, ledger.client.post("/v1/entries", json=envelope), 403, "bad_signature", before
    )


def test_stale_prev_is_refused(ledger: Ledger, mine: Party, cast: dict[str, Party]) -> None:
    stale = dict(ledger.heads)
    ledger.post(mine, transform(mine, ledger.heads, [("ORE-1", 10)], [("CON-1", "concentrate", 5)]))
    before = _state(ledger)
    again = transform(mine, stale, [("ORE-1", 10)], [("CON-2", "concentrate", 5)])
    _assert_refused(
        ledger,
        ledger.client.post("/v1/entries", json=mine.envelope(again)),
        409,
        "stale_prev",
        before,
    )


def test_replayed_envelope_is_refused(ledger: Ledger, mine: Party, cast: dict[str, Party]) -> None:
    envelope = mine.envelope(ship(mine, ledger.heads, cast["plant"].id, [("ORE-1", 1_000_000)]))
    assert ledger.client.post("/v1/entries", json=envelope).status_code == 201
    before = _state(ledger)
    problem = _assert_refused(
        ledger, ledger.client.post("/v1/entries", json=envelope), 409, "duplicate_event_id", before
    )
    assert str(before[0] - 1) in problem["detail"]


def test_consuming_more_than_the_lot_holds_is_refused(ledger: Ledger, mine: Party) -> None:
    before = _state(ledger)
    greedy = transform(mine, ledger.heads, [("ORE-1", 1_000_001)], [("CON-1", "concentrate", 5)])
    _assert_refused(
        ledger,
        ledger.client.post("/v1/entries", json=mine.envelope(greedy)),
        409,
        "insufficient_mass",
        before,
    )


def test_time_in_the_future_is_refused(ledger: Ledger, mine: Party) -> None:
    future = {**extract(mine, "ORE-2"), "time": "2999-01-01T00:00:00Z"}
    before = _state(ledger)
    _assert_refused(
        ledger,
        ledger.client.post("/v1/entries", json=mine.envelope(future)),
        422,
        "time_in_future",
        before,
    )


def test_time_before_the_earliest_is_refused(ledger: Ledger, mine: Party) -> None:
    ancient = {**extract(mine, "ORE-2"), "time": "1970-01-01T00:00:00Z"}
    before = _state(ledger)
    problem = _assert_refused(
        ledger,
        ledger.client.post("/v1/entries", json=mine.envelope(ancient)),
        422,
        "time_too_early",
        before,
    )
    assert problem["field"] == "time" and "2000-01-01T00:00:00Z" in problem["detail"]


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2066", "\ufeff"])
def test_a_format_character_in_free_text_is_refused_naming_the_field(
    ledger: Ledger, mine: Party, char: str
) -> None:
    body = extract(mine, "ORE-2")
    body["site"]["name"] = f"Pit{char} 1"
    before = _state(ledger)
    problem = _assert_refused(
        ledger,
        ledger.client.post("/v1/entries", json=mine.envelope(body)),
        400,
        "invalid_field",
        before,
    )
    assert problem["field"] == "site.name"
    assert f"U+{ord(char):04X}" in problem["detail"]


def test_customs_of_another_country_may_not_decide(
    ledger: Ledger, mine: Party, cast: dict[str, Party]
) -> None:
    exporter = cast["exporter"]
    rotterdam = ledger.enrol(Party("rotterdam-customs"), ["customs"], "NL")
    ledger.post(mine, ship(mine, ledger.heads, exporter.id, [("ORE-1", 1_000_000)]))
    ledger.post(exporter, receive(exporter, ledger.heads, mine.id, [("ORE-1", 1_000_000)]))
    ledger.post(exporter, declare(exporter, ledger.heads, "DEC-1", ["ORE-1"], 1_000_000))
    before = _state(ledger)
    foreign = decide(rotterdam, ledger.heads, "DEC-1", ["ORE-1"], "release")
    problem = _assert_refused(
        ledger,
        ledger.client.post("/v1/entries", json=rotterdam.envelope(foreign)),
        403,
        "outside_jurisdiction",
        before,
    )
    assert problem["field"] == "declaration"
    assert "exporter in CN; customs of NL decides" in problem["detail"]
    ledger.post(cast["customs"], decide(cast["customs"], ledger.heads, "DEC-1", ["ORE-1"], "hold"))
