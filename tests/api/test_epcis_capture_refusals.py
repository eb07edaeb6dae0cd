"""Capture refuses what it does not map: a 4xx problem naming it, never a 5xx, nothing written.

Without GS1's schema in the home, capture's own checks (ledger/epcis/shape.py, capture.py) name
each fault; with it installed the schema answers first, and every case is still a 4xx. The
public corpora (GS1's examples, OpenEPCIS' capture documents) are refused with 4xx either way,
and OpenEPCIS' invalid documents with the schema's reason when it is installed, as before.
"""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.epcis.vocabulary import DOCUMENT_PAYLOAD_TYPE
from ledger.tlog.envelope import sign_envelope
from tests.api.conftest import Ledger
from tests.api.test_epcis_chain import capture_request, document_of, use_gs1_schema
from tests.support import Party, extract, ship
from tests.vectors import vector_path

Change = Callable[[dict[str, Any]], object]
EVENT = "epcisBody.eventList.0"


def _two_events(mine: Party, plant: Party) -> dict[str, Any]:
    """The mine's extract of ORE-1 and its shipment to the plant: a document capture accepts."""
    first = mine.envelope(extract(mine, "ORE-1"))
    event_hash = document_of([first])["epcisBody"]["eventList"][0]["ree:eventHash"]
    second = mine.envelope(ship(mine, {"ORE-1": event_hash}, plant.id, [("ORE-1", 1_000_000)]))
    return document_of([first, second])


def _event(document: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = document["epcisBody"]["eventList"][0]
    return event


def _post(ledger: Ledger, party: Party, document: object) -> Any:
    if isinstance(document, bytes):  # the payload's bytes as they are
        body = sign_envelope(document, party.key, party.keyid, DOCUMENT_PAYLOAD_TYPE).to_json()
    else:
        body = capture_request(party, document)  # type: ignore[arg-type]
    return ledger.client.post("/v1/epcis/capture", json=body)


def _refused(ledger: Ledger, party: Party, document: object) -> dict[str, Any]:
    size = ledger.size()
    response = _post(ledger, party, document)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert ledger.size() == size
    problem: dict[str, Any] = response.json()
    return problem


# (how the valid document is broken, status, code, field) without GS1's schema.
REFUSALS: list[tuple[str, Change, int, str, str | None]] = [
    ("malformed-json", lambda d: b'{"type": "EPCISDocument", ', 400, "malformed_document", None),
    ("not-an-object", lambda d: b"[1, 2]", 400, "malformed_document", None),
    ("query-document", lambda d: d.update(type="EPCISQueryDocument"), 422,
     "not_an_epcis_document", "type"),
    ("no-epcisBody", lambda d: d.pop("epcisBody"), 422, "epcis_document_invalid", "epcisBody"),
    ("no-creationDate", lambda d: d.pop("creationDate"), 422, "epcis_document_invalid",
     "creationDate"),
    ("bad-creationDate", lambda d: d.update(creationDate="yesterday"), 422,
     "epcis_document_invalid", "creationDate"),
    ("numeric-schemaVersion", lambda d: d.update(schemaVersion=2), 422,
     "epcis_document_invalid", "schemaVersion"),
    ("context-not-a-uri", lambda d: d["@context"].append("not a uri"), 422,
     "epcis_document_invalid", "@context.2"),
    ("context-twice", lambda d: d["@context"].append(d["@context"][0]), 422,
     "epcis_document_invalid", "@context"),
    ("master-data", lambda d: d.update(epcisHeader={"epcisMasterData": {}}), 422,
     "epcis_document_invalid", "epcisHeader"),
    ("unknown-document-member", lambda d: d.update(comment="x"), 422,
     "epcis_document_invalid", "comment"),
    ("unknown-body-member", lambda d: d["epcisBody"].update(queryResults={}), 422,
     "epcis_document_invalid", "epcisBody.queryResults"),
    ("eventList-not-an-array", lambda d: d["epcisBody"].update(eventList={}), 422,
     "epcis_document_invalid", "epcisBody.eventList"),
    ("no-events", lambda d: d["epcisBody"].update(eventList=[]), 422, "empty_document",
     "eventList"),
    ("event-not-an-object", lambda d: d["epcisBody"]["eventList"].insert(0, "ORE-1"), 422,
     "epcis_document_invalid", EVENT),
    ("unmapped-event-type", lambda d: _event(d).update(type="AggregationEvent"), 422,
     "unmapped_event_type", f"{EVENT}.type"),
    ("no-event-type", lambda d: _event(d).pop("type"), 422, "unmapped_event_type",
     f"{EVENT}.type"),
    ("no-envelope", lambda d: _event(d).pop("ree:envelope"), 422, "ledger_fields_missing",
     f"{EVENT}.ree:envelope"),
    ("no-quantityList", lambda d: _event(d).pop("quantityList"), 422, "epcis_mismatch",
     f"{EVENT}.quantityList"),
    ("quantityList-a-string", lambda d: _event(d).update(quantityList="ORE-1"), 422,
     "epcis_mismatch", f"{EVENT}.quantityList"),
    ("quantity-as-text", lambda d: _event(d)["quantityList"][0].update(quantity="1000"), 422,
     "epcis_mismatch", f"{EVENT}.quantityList"),
    ("unknown-event-member", lambda d: _event(d).update(readPoint={"id": "urn:x:y"}), 422,
     "epcis_mismatch", f"{EVENT}.readPoint"),
    ("eventID-not-a-uri", lambda d: _event(d).update(eventID="event one"), 422,
     "epcis_document_invalid", f"{EVENT}.eventID"),
    ("recordTime-a-number", lambda d: _event(d).update(recordTime=5), 422,
     "epcis_document_invalid", f"{EVENT}.recordTime"),
    ("negative-index", lambda d: _event(d).update(**{"ree:index": -1}), 422,
     "epcis_document_invalid", f"{EVENT}.ree:index"),
    ("envelope-not-an-object", lambda d: _event(d).update(**{"ree:envelope": "x"}), 400,
     "malformed_envelope", f"{EVENT}.ree:envelope.envelope"),
]  # fmt: skip


def _broken(document: dict[str, Any], change: Change) -> object:
    broken = copy.deepcopy(document)
    replaced = change(broken)
    return replaced if isinstance(replaced, bytes) else broken


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_without_the_schema_each_fault_is_refused_naming_it(
    ledger: Ledger, cast: dict[str, Party], change: Change, status: int, code: str, field: str
) -> None:
    mine = cast["mine"]
    problem = _refused(ledger, mine, _broken(_two_events(mine, cast["plant"]), change))
    assert (problem["status"], problem["code"], problem.get("field")) == (status, code, field)


def test_with_the_schema_each_fault_is_still_refused(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    use_gs1_schema(ledger.client)
    mine = cast["mine"]
    document = _two_events(mine, cast["plant"])
    for name, change, *_ in REFUSALS:
        problem = _refused(ledger, mine, _broken(document, change))
        assert problem["code"], name
    assert _post(ledger, mine, document).status_code == 201


def test_a_refused_value_is_named_with_the_member(ledger: Ledger, cast: dict[str, Party]) -> None:
    mine = cast["mine"]
    document = _two_events(mine, cast["plant"])
    _event(document)["eventID"] = "event one"
    problem = _refused(ledger, mine, document)
    assert problem["value"] == "event one" and '"event one"' in problem["detail"]
    assert problem["detail"].startswith("event 0: eventID must be an absolute URI")


def _json_values() -> st.SearchStrategy[Any]:
    leaves = (
        st.none() | st.booleans() | st.integers() | st.text(max_size=12)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.sampled_from(["", "ObjectEvent", "AggregationEvent", "2026-13-01T00:00:00Z",
                           "urn:epcglobal:cbv:bizstep:shipping", "ree:x", 2**70, -1])
    )  # fmt: skip
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=6,
    )


def _places(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member and array item in `value`, as a path of keys and indexes."""
    found: list[tuple[Any, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        found.append((*path, key))
        found.extend(_places(child, (*path, key)))
    return found


def _mutate(document: dict[str, Any], path: tuple[Any, ...], how: str, new: Any) -> None:
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "replace":
        parent[last] = new
    elif isinstance(parent, dict):  # add a member beside it
        parent[f"{last}x" if not isinstance(new, str) or not new else new] = new
    else:
        parent.append(new)


@pytest.fixture(params=["own-checks", "gs1-schema"])
def schema(request: pytest.FixtureRequest, ledger: Ledger) -> str:
    """Capture with its own checks only, or with GS1's schema installed as well."""
    if request.param == "gs1-schema":
        use_gs1_schema(ledger.client)
    return str(request.param)


@pytest.fixture
def valid(cast: dict[str, Party]) -> dict[str, Any]:
    """One valid document for all the examples of a test (their draws must not vary)."""
    return _two_events(cast["mine"], cast["plant"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_mutation_of_a_valid_document_is_a_5xx(
    ledger: Ledger, cast: dict[str, Party], schema: str, valid: dict[str, Any], data: st.DataObject
) -> None:
    mine = cast["mine"]
    document = copy.deepcopy(valid)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        places = _places(document)
        if not places:
            break
        path = data.draw(st.sampled_from(places), label="path")
        how = data.draw(st.sampled_from(["delete", "replace", "add"]), label="how")
        _mutate(document, path, how, data.draw(_json_values(), label="value"))
    response = _post(ledger, mine, document)
    assert response.status_code < 500, response.text
    if response.status_code != 201:
        assert response.headers["content-type"] == "application/problem+json"


def _corpus() -> list[Path]:
    gs1 = vector_path("epcis", "JSON")
    openepcis = vector_path("epcis-openepcis", "Capture")
    return sorted(gs1.rglob("*.jsonld")) + sorted(openepcis.rglob("*.json"))


@pytest.mark.parametrize("with_schema", [False, True], ids=["own-checks", "gs1-schema"])
def test_public_documents_without_ledger_entries_are_refused_with_4xx(
    ledger: Ledger, cast: dict[str, Party], with_schema: bool
) -> None:
    if with_schema:
        use_gs1_schema(ledger.client)
    corpus = _corpus()
    assert len(corpus) > 100
    for path in corpus:
        problem = _refused(ledger, cast["mine"], path.read_bytes())
        if with_schema and path.parent.name == "Invalid":
            assert problem["code"] == "epcis_schema_violation", path.name
