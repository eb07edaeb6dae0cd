"""Read authorisation through the API: tokens are stored hashed and compared in constant time,
and commercial detail goes only to the holder, the receiver, customs and auditors."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from ledger.config import Settings
from ledger.home import Home, init_home
from ledger.service import tokens
from tests.api.conftest import Ledger
from tests.support import Party, extract, ship

ORIGIN = "access.ree-ledger.local/log"
ROLES = {
    "mine": ["mine"],
    "plant": ["processor"],
    "trader": ["trader"],
    "lab": ["lab"],
    "exporter": ["processor", "exporter"],
    "customs": ["customs"],
    "auditor": ["auditor"],
}


@pytest.fixture
def ledger(tmp_path: Path, database_url: str) -> Iterator[Ledger]:
    init_home(tmp_path / "home", database_url, ORIGIN)
    home = Home(tmp_path / "home")
    app = create_app(Settings(home=home.path, database_url=database_url, origin=ORIGIN))
    try:
        with TestClient(app) as client:
            yield Ledger(client, Party("operator", home.operator_key()))
    finally:
        app.state.db.dispose()


@pytest.fixture
def cast(ledger: Ledger) -> dict[str, Party]:
    parties = {name: Party(f"{name}-co") for name in ROLES}
    for name, roles in ROLES.items():
        ledger.enrol(parties[name], roles)
    mine = parties["mine"]
    ledger.post(mine, extract(mine, "ORE-HELD"))
    ledger.post(mine, extract(mine, "ORE-SHIPPED"))
    ledger.post(mine, ship(mine, ledger.heads, parties["plant"].id, [("ORE-SHIPPED", 1_000_000)]))
    return parties


def test_read_tokens_are_stored_only_as_their_sha256(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    issued = [ledger.token(party) for party in cast.values()]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(text("SELECT * FROM read_tokens"))]
    finally:
        engine.dispose()
    assert len(rows) == len(issued)
    stored = " ".join(str(value) for row in rows for value in row)
    for token in issued:
        secret = token.removeprefix(tokens.TOKEN_PREFIX)
        assert len(secret) >= 40 and secret not in stored and token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_tokens_are_compared_in_constant_time(
    ledger: Ledger, cast: dict[str, Party], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", recording)
    token = ledger.token(cast["customs"])
    answer = ledger.client.get("/v1/lots/ORE-HELD", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and "mass_g" in answer.json()
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert calls == [(digest, digest)]


# reader -> may read the detail of ORE-HELD (held by the mine) and of ORE-SHIPPED (in transit
# from the mine to the plant)
DETAIL = {
    "mine": (True, True),
    "plant": (False, True),
    "trader": (False, False),
    "lab": (False, False),
    "exporter": (False, False),
    "customs": (True, True),
    "auditor": (True, True),
}


def test_lot_detail_only_for_holder_receiver_customs_and_auditors(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    for reader, may_read in DETAIL.items():
        headers = ledger.auth(cast[reader])
        for lot, allowed in zip(("ORE-HELD", "ORE-SHIPPED"), may_read, strict=True):
            for path in (f"/v1/lots/{lot}", f"/v1/lots/{lot}/provenance"):
                answer = ledger.client.get(path, headers=headers)
                if allowed:
                    assert answer.status_code == 200, (reader, path, answer.text)
                    continue
                assert answer.status_code == 403, (reader, path, answer.text)
                assert answer.json()["code"] == "not_your_lot"
                assert "1000000" not in answer.text and "custodian" not in answer.json()


def test_without_a_token_only_the_public_view(ledger: Ledger, cast: dict[str, Party]) -> None:
    body = ledger.client.get("/v1/lots/ORE-HELD").json()
    assert not {"mass_g", "composition_ppm", "custodian", "pending_to"} & set(body)
    for header in ("Bearer rlt_forged", "Basic abc", "Bearer "):
        answer = ledger.client.get("/v1/lots/ORE-HELD", headers={"Authorization": header})
        assert answer.status_code == 401, (header, answer.text)


def test_entries_flags_and_checks_of_others_only_for_customs_and_auditors(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    index = ledger.size() - 1  # the mine's shipment
    declaration = {
        "id": "DEC-CHECK",
        "lots": ["ORE-HELD"],
        "hs_code": "253090",
        "description": "Rare-earth ore",
        "declared_mass_g": 1_000_000,
        "destination": "DE",
    }
    for reader in DETAIL:
        headers = ledger.auth(cast[reader])
        entry = ledger.client.get(f"/v1/entries/{index}", headers=headers)
        if reader in ("mine", "customs", "auditor"):
            assert entry.status_code == 200, entry.text
        else:
            assert entry.status_code == 403 and entry.json()["code"] == "not_your_entry"
        oversight = reader in ("customs", "auditor")
        flags = ledger.client.get("/v1/flags", headers=headers)
        assert flags.status_code == (200 if oversight else 403), (reader, flags.text)
        check = ledger.client.post("/v1/declarations/check", json=declaration, headers=headers)
        assert check.status_code == (200 if oversight else 403), (reader, check.text)
    assert ledger.client.get("/v1/flags").status_code == 401
    assert ledger.client.get(f"/v1/entries/{index}").status_code == 401
