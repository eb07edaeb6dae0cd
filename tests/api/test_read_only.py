"""A database that refuses writes: every write answers 503 database_read_only (problem+json,
with Retry-After) and writes nothing, reads go on, and /healthz says the database is read-only.

SQLite is opened with `mode=ro`; PostgreSQL gets `default_transaction_read_only = on` for the
database, or a login role that may only read. (A SQLite file at mode 0444 in a read-only
directory would do as well, but the tests may run as root, whom file modes do not stop.)
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import make_url

from api.app import create_app
from api.errors import READ_ONLY_RETRY_AFTER_S
from ledger.config import Settings
from ledger.home import Home
from tests.api.conftest import ORIGIN, Ledger
from tests.api.test_epcis_chain import capture_request, document_of
from tests.pgserver import TemporaryPostgres
from tests.support import Party, extract, register


@dataclass
class ReadOnly:
    """Turns the test's database read-only, and back, for connections opened afterwards."""

    on: Callable[[], str]  # returns the URL to open it with
    off: Callable[[], None]


@pytest.fixture
def read_only(
    backend: str, database_url: str, request: pytest.FixtureRequest
) -> Iterator[ReadOnly]:
    name = make_url(database_url).database or ""
    if backend == "sqlite":
        yield ReadOnly(lambda: f"sqlite:///file:{name}?mode=ro&uri=true", lambda: None)
        return
    postgres: TemporaryPostgres = request.getfixturevalue("postgres")
    database = sql.Identifier(name)

    def on() -> str:
        setting = "ALTER DATABASE {} SET default_transaction_read_only = on"
        postgres.execute(sql.SQL(setting).format(database))
        return database_url

    def off() -> None:
        reset = "ALTER DATABASE {} RESET default_transaction_read_only"
        postgres.execute(sql.SQL(reset).format(database))

    yield ReadOnly(on, off)
    off()


def _served(home: Home, url: str) -> TestClient:
    return TestClient(create_app(Settings(home=home.path, database_url=url, origin=ORIGIN)))


def assert_read_only_answer(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == str(READ_ONLY_RETRY_AFTER_S)
    problem = answer.json()
    assert problem["code"] == "database_read_only" and problem["status"] == 503
    assert "nothing was written" in problem["detail"]


def test_writes_to_a_read_only_database_answer_503_and_reads_go_on(
    ledger: Ledger, home: Home, read_only: ReadOnly
) -> None:
    mine = ledger.enrol(Party("ro-mine"), ["mine"])
    ledger.post(mine, extract(mine, "ORE-RO1"))
    size, checkpoint = ledger.size(), ledger.client.get("/v1/checkpoint").text
    assert ledger.client.get("/healthz").json()["database"] == "writable"
    ledger.client.app.state.db.dispose()  # its pooled connections were opened writable
    second = extract(mine, "ORE-RO2")
    operator = Party("operator", home.operator_key())
    with _served(home, read_only.on()) as client:
        assert_read_only_answer(client.post("/v1/entries", json=mine.envelope(second)))
        batch = {"envelopes": [mine.envelope(second)]}
        assert_read_only_answer(client.post("/v1/entries/batch", json=batch))
        registration = register(operator, Party("ro-plant"), ["processor"])
        assert_read_only_answer(client.post("/v1/entries", json=operator.envelope(registration)))
        capture = capture_request(mine, document_of([mine.envelope(second)]))
        assert_read_only_answer(client.post("/v1/epcis/capture", json=capture))
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded" and health.json()["database"] == "read_only"
        assert health.json()["size"] == size
        assert client.get("/v1/checkpoint").text == checkpoint
        assert "Record intact" in client.get("/lots/ORE-RO1").text
        client.app.state.db.dispose()
    read_only.off()
    # Writable again: nothing was written, and the same event is accepted.
    assert ledger.size() == size
    assert ledger.client.get("/healthz").json()["status"] == "ok"
    ledger.post(mine, second)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_role_that_may_only_read_gets_503_on_writes(
    ledger: Ledger, home: Home, database_url: str, postgres: TemporaryPostgres
) -> None:
    mine = ledger.enrol(Party("ro-mine"), ["mine"])
    name = make_url(database_url).database or ""
    role = sql.Identifier(f"reader_{name}")
    postgres.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    try:
        with psycopg.connect(postgres.conninfo(name), autocommit=True) as connection:
            connection.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
            connection.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(role)
            )
        url = make_url(database_url).set(username=f"reader_{name}")
        with _served(home, url.render_as_string(hide_password=False)) as client:
            entry = mine.envelope(extract(mine, "ORE-R"))
            assert_read_only_answer(client.post("/v1/entries", json=entry))
            assert client.get("/healthz").json()["database"] == "read_only"
            client.app.state.db.dispose()
    finally:
        with psycopg.connect(postgres.conninfo(name), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP OWNED BY {}").format(role))
        postgres.execute(sql.SQL("DROP ROLE {}").format(role))
