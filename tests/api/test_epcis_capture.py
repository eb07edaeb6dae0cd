"""EPCIS capture: signed documents, recorded all or nothing; export → capture → export.

Each flow runs on a home without GS1's schema (capture's own checks) and with it installed
(`schema` fixture: "own-checks" or "gs1-schema"; the latter skips where there are no vectors).
"""

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.config import Settings
from ledger.home import Home, init_home
from ledger.service.epcis_schema import SCHEMA_FILE
from ledger.verify.entry import parse_entry
from tests.api.conftest import ORIGIN, Ledger, grant
from tests.api.test_epcis_chain import (
    build_chain,
    capture_request,
    document_of,
    use_gs1_schema,
)
from tests.support import Party, extract, register, ship
from tests.vectors import vector_path

CAST = (
    ("mine", "baotou-mine", ["mine"], "CN"),
    ("plant", "gansu-plant", ["processor"], "CN"),
    ("exporter", "ningbo-export", ["processor", "exporter"], "CN"),
    ("customs", "tianjin-customs", ["customs"], "CN"),
    ("auditor", "audit-office", ["auditor"], "CH"),
)
_databases = itertools.count(1)


@pytest.fixture(params=["own-checks", "gs1-schema"])
def schema(request: pytest.FixtureRequest, ledger: Ledger) -> str:
    """Capture with its own checks only, or with GS1's schema installed in the home as well."""
    if request.param == "gs1-schema":
        use_gs1_schema(ledger.client)
    expected = "active" if request.param == "gs1-schema" else "absent"
    assert ledger.client.get("/healthz").json()["epcis_schema"] == expected
    return str(request.param)


@pytest.fixture
def second_ledger(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Ledger]:
    """Ledger B: its own home, keys and database, the same origin, an empty log."""
    # The database fixtures' templates (tests/conftest.py) give a migrated copy quickly.
    name = f"epcis_b_{next(_databases)}"
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), tmp_path / "b.db")
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        server = request.getfixturevalue("postgres")
        url = server.create_database(name, template=request.getfixturevalue("_postgres_template"))
    init_home(tmp_path / "home-b", url, ORIGIN)
    home = Home(tmp_path / "home-b")
    app = create_app(Settings(home=home.path, database_url=url, origin=ORIGIN))
    with TestClient(app) as client:
        yield Ledger(client, Party("operator", home.operator_key()))
    app.state.db.dispose()
    if backend != "sqlite":
        request.getfixturevalue("postgres").drop_database(name)


def _enrol(ledger: Ledger, cast: dict[str, Party]) -> None:
    for role, _, roles, country in CAST:
        ledger.post(ledger.operator, register(ledger.operator, cast[role], roles, country))
    grant(ledger, cast["authority"])  # the same quota and licence, as entries 5-7


def _capture(ledger: Ledger, party: Party, document: dict[str, Any], status: int = 201) -> Any:
    response = ledger.client.post("/v1/epcis/capture", json=capture_request(party, document))
    assert response.status_code == status, response.text
    return response.json()


def _events(ledger: Ledger, auditor: Party) -> list[dict[str, Any]]:
    response = ledger.client.get("/v1/lots/CON-1/epcis", headers=ledger.auth(auditor))
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["epcisBody"]["eventList"]
    return events


@pytest.mark.parametrize("with_schema", [False, True], ids=["own-checks", "gs1-schema"])
def test_export_capture_export_round_trips_into_a_fresh_ledger(
    ledger: Ledger, cast: dict[str, Party], second_ledger: Ledger, with_schema: bool
) -> None:
    build_chain(ledger, cast)
    exported = _events(ledger, cast["auditor"])
    _enrol(second_ledger, cast)
    if with_schema:
        use_gs1_schema(second_ledger.client)
    signers = {party.id: party for party in cast.values()}
    # Each participant captures its own run of events, as it exported them from ledger A.
    for actor, run in itertools.groupby(exported, key=lambda e: e["ree:actor"]):
        document = {**document_of([]), "epcisBody": {"eventList": list(run)}}
        _capture(second_ledger, signers[actor], document)
    again = _events(second_ledger, cast["auditor"])
    assert again == exported
    for path in ("/v1/lots/CON-1", "/v1/lots/ORE-1"):
        a = ledger.client.get(path, headers=ledger.auth(cast["auditor"])).json()
        b = second_ledger.client.get(path, headers=second_ledger.auth(cast["auditor"])).json()
        assert a == b


def test_capture_answers_ledger_results_and_the_export_event_id(
    ledger: Ledger, cast: dict[str, Party], schema: str
) -> None:
    mine, plant = cast["mine"], cast["plant"]
    first = extract(mine, "ORE-1")
    envelopes = [mine.envelope(first)]
    second = ship(mine, {"ORE-1": parse_entry(envelopes[0]).event_hash}, plant.id, [("ORE-1", 1)])
    envelopes.append(mine.envelope(second))
    body = _capture(ledger, mine, document_of(envelopes))
    # After the cast's five registrations and its authority's three entries (conftest.grant).
    assert [r["index"] for r in body["results"]] == [8, 9]
    assert [r["position"] for r in body["results"]] == [0, 1]
    assert body["results"][1]["checkpoint"].split("\n")[1] == "10"
    assert [f["code"] for f in body["results"][1]["flags"]] == ["SHIP_MASS_MISMATCH"]
    exported = _events_of_lot(ledger, cast["auditor"], "ORE-1")
    assert [e["eventID"] for e in exported] == [r["eventID"] for r in body["results"]]
    assert [e["ree:eventHash"] for e in exported] == [r["event_hash"] for r in body["results"]]


def test_capture_is_all_or_nothing_and_names_the_failing_event(
    ledger: Ledger, cast: dict[str, Party], schema: str
) -> None:
    mine, plant = cast["mine"], cast["plant"]
    good = mine.envelope(extract(mine, "ORE-1"))
    stale = mine.envelope(ship(mine, {"ORE-1": "0" * 64}, plant.id, [("ORE-1", 1_000_000)]))
    document = document_of([good, stale])
    size = ledger.size()
    problem = _capture(ledger, mine, document, status=409)
    assert problem["position"] == 1
    event_id = document["epcisBody"]["eventList"][1]["eventID"]
    assert problem["detail"].startswith(f"event 1 (eventID {event_id}): ")
    assert problem["field"].startswith("epcisBody.eventList.1.ree:envelope.prev")
    assert ledger.size() == size


def test_valid_epcis_without_ledger_fields_is_422_naming_them(
    ledger: Ledger, cast: dict[str, Party], schema: str
) -> None:
    path = vector_path("epcis", "JSON", "Example_9.6.1-ObjectEvent.jsonld")
    document = json.loads(path.read_text(encoding="utf-8"))
    response = ledger.client.post("/v1/epcis/capture", json=capture_request(cast["mine"], document))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "ledger_fields_missing" and "ree:envelope" in problem["detail"]


@pytest.mark.parametrize(
    ("with_schema", "code", "said"),
    [(True, "epcis_schema_violation", "does not match"),
     (False, "epcis_mismatch", 'eventTimeZoneOffset is "+25:00" but the ledger entry says')],
    ids=["gs1-schema", "own-checks"],
)  # fmt: skip
def test_broken_member_is_422_naming_it(
    ledger: Ledger, cast: dict[str, Party], with_schema: bool, code: str, said: str
) -> None:
    if with_schema:
        use_gs1_schema(ledger.client)
    mine = cast["mine"]
    document = document_of([mine.envelope(extract(mine, "ORE-1"))])
    document["epcisBody"]["eventList"][0]["eventTimeZoneOffset"] = "+25:00"
    problem = _capture(ledger, mine, document, status=422)
    assert problem["code"] == code and said in problem["detail"]
    assert problem["field"] == "epcisBody.eventList.0.eventTimeZoneOffset"


def test_capture_refuses_a_bad_or_unknown_signature(
    ledger: Ledger, cast: dict[str, Party], schema: str
) -> None:
    mine = cast["mine"]
    request = capture_request(mine, document_of([mine.envelope(extract(mine, "ORE-1"))]))
    forged = capture_request(cast["plant"], {"x": 1})
    request["signatures"][0]["sig"] = forged["signatures"][0]["sig"]
    response = ledger.client.post("/v1/epcis/capture", json=request)
    assert response.status_code == 403 and response.json()["code"] == "bad_signature"
    stranger = Party("stranger")
    request = capture_request(stranger, document_of([stranger.envelope(extract(stranger, "X"))]))
    response = ledger.client.post("/v1/epcis/capture", json=request)
    assert response.status_code == 403 and response.json()["code"] == "unknown_key"


def test_schema_installed_while_serving_is_applied_from_the_next_capture(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = cast["mine"]
    document = document_of([mine.envelope(extract(mine, "ORE-1"))])
    document["epcisBody"]["eventList"][0]["eventTimeZoneOffset"] = "+25:00"
    assert _capture(ledger, mine, document, status=422)["code"] == "epcis_mismatch"
    use_gs1_schema(ledger.client)
    assert ledger.client.get("/healthz").json()["epcis_schema"] == "active"
    assert _capture(ledger, mine, document, status=422)["code"] == "epcis_schema_violation"
    (_home(ledger) / SCHEMA_FILE).unlink()
    assert ledger.client.get("/healthz").json()["epcis_schema"] == "absent"
    assert _capture(ledger, mine, document, status=422)["code"] == "epcis_mismatch"


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b'{"$schema": "http://json-schema.org/draft-07/schema#"}'],
    ids=["empty", "not-json", "accepts-anything"],
)  # fmt: skip
def test_unusable_schema_in_the_home_stops_captures_with_503(
    ledger: Ledger, cast: dict[str, Party], content: bytes
) -> None:
    (_home(ledger) / SCHEMA_FILE).write_bytes(content)
    assert ledger.client.get("/healthz").json()["epcis_schema"] == "unusable"
    mine = cast["mine"]
    size = ledger.size()
    request = capture_request(mine, document_of([mine.envelope(extract(mine, "ORE-1"))]))
    response = ledger.client.post("/v1/epcis/capture", json=request)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "epcis_schema_unavailable"
    # Where the operator keeps files is not the client's business.
    assert "/" not in response.json()["detail"].replace("install-schema FILE", "")
    assert ledger.size() == size


def test_schema_named_by_the_environment_must_be_there(
    settings: Settings, tmp_path: Path, cast: dict[str, Party], ledger: Ledger
) -> None:
    named = settings.model_copy(update={"epcis_schema": tmp_path / "nowhere.json"})
    app = create_app(named)
    with TestClient(app) as client:
        assert client.get("/healthz").json()["epcis_schema"] == "unusable"
        mine = cast["mine"]
        request = capture_request(mine, document_of([mine.envelope(extract(mine, "ORE-1"))]))
        assert client.post("/v1/epcis/capture", json=request).status_code == 503
    app.state.db.dispose()


def _home(ledger: Ledger) -> Path:
    home: Path = ledger.client.app.state.settings.home  # type: ignore[attr-defined]
    return home


def _events_of_lot(ledger: Ledger, reader: Party, lot: str) -> list[dict[str, Any]]:
    response = ledger.client.get(f"/v1/lots/{lot}/epcis", headers=ledger.auth(reader))
    events: list[dict[str, Any]] = response.json()["epcisBody"]["eventList"]
    return events
