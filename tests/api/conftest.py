"""An app on a fresh database per test, with the operator and a cast of participants."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.config import Settings
from ledger.home import Home, init_home
from ledger.service.tokens import issue_token
from tests.support import Party, licence_issue, quota_issue, register

ORIGIN = "test.ree-ledger.local/log"


class Ledger:
    """A test client that signs, posts and remembers lot heads."""

    def __init__(self, client: TestClient, operator: Party) -> None:
        self.client = client
        self.operator = operator
        self.heads: dict[str, str] = {}

    def post(self, party: Party, event: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = self.client.post("/v1/entries", json=party.envelope(event))
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        if status == 201:
            self.remember(event, body["event_hash"])
        return body

    def remember(self, event: dict[str, Any], event_hash: str) -> None:
        touched = list(event["prev"])
        if event["type"] == "lot.extract":
            touched.append(event["lot"]["id"])
        if event["type"] == "lot.transform":
            touched.extend(output["id"] for output in event["outputs"])
        for lot in touched:
            self.heads[lot] = event_hash

    def size(self) -> int:
        size: int = self.client.get("/v1/log").json()["size"]
        return size

    def token(self, party: Party) -> str:
        return issue_token(self.client.app.state.db, party.id, datetime.now(UTC))

    def auth(self, party: Party) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(party)}"}

    def enrol(self, party: Party, roles: list[str], country: str = "CN") -> Party:
        self.post(self.operator, register(self.operator, party, roles, country))
        return party


@pytest.fixture
def home(tmp_path: Path, database_url: str) -> Home:
    init_home(tmp_path / "home", database_url, ORIGIN)
    return Home(tmp_path / "home")


@pytest.fixture
def settings(home: Home, database_url: str) -> Settings:
    return Settings(home=home.path, database_url=database_url, origin=ORIGIN)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.db.dispose()


@pytest.fixture
def ledger(client: TestClient, home: Home) -> Ledger:
    return Ledger(client, Party("operator", home.operator_key()))


@pytest.fixture
def cast(ledger: Ledger) -> dict[str, Party]:
    """A mine, a processor, an exporter, customs and an auditor, registered; China's authority
    has issued the mine a 2026 quota and the exporter licence LIC-1 (DESIGN §9.1), which
    tests.support.declare names."""
    cast = {
        "mine": ledger.enrol(Party("baotou-mine"), ["mine"]),
        "plant": ledger.enrol(Party("gansu-plant"), ["processor"]),
        "exporter": ledger.enrol(Party("ningbo-export"), ["processor", "exporter"]),
        "customs": ledger.enrol(Party("tianjin-customs"), ["customs"]),
        "auditor": ledger.enrol(Party("audit-office"), ["auditor"], "CH"),
    }
    return {**cast, "authority": grant(ledger, Party("cn-mofcom"))}


def grant(ledger: Ledger, authority: Party) -> Party:
    """Register China's authority; it issues baotou-mine a 2026 quota and ningbo-export
    licence LIC-1 for every element of China's list: three entries."""
    ledger.enrol(authority, ["authority"])
    ledger.post(authority, quota_issue(authority, "Q-2026", "baotou-mine", 10**12))
    controlled = ["Dy", "Gd", "Lu", "Sc", "Sm", "Tb", "Y"]
    ledger.post(authority, licence_issue(authority, "LIC-1", "ningbo-export", controlled, 10**12))
    return authority
