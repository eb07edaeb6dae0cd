"""Reads from a PostgreSQL streaming replica (REE_LEDGER_READ_DATABASE_URL, docs/operations.md).

A real primary (the session's private server) and a real hot standby of it, made with
`pg_basebackup -R` on loopback as the same unprivileged user (tests/pgreplica.py). Writes go to
the primary; the read routes answer from the standby, each at one tree size that it names in
`Ree-Ledger-Tree-Size`. With the standby's replay paused (`pg_wal_replay_pause()`) while the
primary takes more entries, every answer of the standby verifies against the checkpoint it
names, and a request for what only the primary has gets 503 `replica_behind`, Retry-After: 1.
PostgreSQL only: SQLite has no replicas.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from api.app import create_app
from api.reads import TREE_SIZE_HEADER, get_read_db
from ledger.config import Settings
from ledger.home import Home, HomeError, init_home
from ledger.lots.tolerances import Tolerances
from ledger.service import queries
from ledger.store.engine import Database
from ledger.tlog import merkle_verify
from ledger.tlog.encoding import b64decode
from ledger.tlog.note import Checkpoint, open_checkpoint
from ledger.verify.bundle import parse_bundle, verify_bundle
from tests.api.conftest import ORIGIN, Ledger
from tests.conftest import _selected_backends
from tests.pgreplica import TemporaryStandby
from tests.pgserver import TemporaryPostgres
from tests.support import Party, extract, receive, ship, transform

pytestmark = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.db)], indirect=True
)


@pytest.fixture(scope="module")
def standby(request: pytest.FixtureRequest) -> Iterator[TemporaryStandby]:
    """A streaming hot standby of the session's PostgreSQL server, for this module."""
    if "postgresql" not in _selected_backends(request.config):
        pytest.skip("replica reads need PostgreSQL, which this run does not test")
    primary: TemporaryPostgres = request.getfixturevalue("postgres")
    request.getfixturevalue("_postgres_template")  # made before the copy: the standby has it
    with TemporaryStandby(primary) as server:
        server.caught_up()
        assert server.streaming()
        yield server


def _name(url: str) -> str:
    return make_url(url).database or ""


@pytest.fixture
def settings(home: Home, database_url: str, standby: TemporaryStandby) -> Settings:
    standby.caught_up()  # the test's database and the home's identity are on the standby
    return Settings(
        home=home.path,
        database_url=database_url,
        read_database_url=standby.database_url(_name(database_url)),
        origin=ORIGIN,
    )


@pytest.fixture
def primary(home: Home, database_url: str) -> Iterator[TestClient]:
    """The same ledger with no replica: every read from the primary."""
    app = create_app(Settings(home=home.path, database_url=database_url, origin=ORIGIN))
    with TestClient(app) as client:
        yield client
    app.state.db.dispose()


def size_of(response: Any) -> int:
    return int(response.headers[TREE_SIZE_HEADER])


def chain(ledger: Ledger, cast: dict[str, Party]) -> None:
    """Ore, concentrate, shipped from the mine to the plant (in transit)."""
    mine, plant = cast["mine"], cast["plant"]
    ledger.post(mine, extract(mine, "ORE-1", 10_000_000))
    made = [("CON-1", "concentrate", 1_000_000)]
    ledger.post(mine, transform(mine, ledger.heads, [("ORE-1", 10_000_000)], made))
    ledger.post(mine, ship(mine, ledger.heads, plant.id, [("CON-1", 1_000_000)]))


def opened(client: TestClient, identity_vkey: str) -> tuple[str, Checkpoint]:
    response = client.get("/v1/checkpoint", params={"unwitnessed": "1"})
    assert response.status_code == 200
    return response.text, open_checkpoint(response.text, identity_vkey, origin=ORIGIN)


def test_reads_come_from_the_replica_and_name_its_size(
    ledger: Ledger, cast: dict[str, Party], standby: TemporaryStandby, primary: TestClient
) -> None:
    chain(ledger, cast)
    standby.caught_up()
    replica = ledger.client
    assert replica.app.state.reads.replicas[0].url.endswith(
        f":{standby.port}/" + _name(replica.app.state.db.url)
    )
    size = primary.get("/v1/log").json()["size"]
    auditor = ledger.auth(cast["auditor"])
    for path in (
        "/v1/log",
        "/v1/checkpoint",
        "/v1/lots/CON-1",
        "/v1/lots/CON-1/provenance",
        "/v1/lots/CON-1/bundle",
        "/v1/flags",
        "/lots/CON-1",
        f"/v1/proofs/inclusion?index=0&size={size}",
    ):
        answer = replica.get(path, headers=auditor)
        assert answer.status_code == 200, (path, answer.text)
        assert size_of(answer) == size, path
        # The replica answers as the primary does.
        if path.startswith("/v1/") and "bundle" not in path and "checkpoint" not in path:
            assert answer.json() == primary.get(path, headers=auditor).json(), path
    assert "Ree-Ledger-Tree-Size" not in replica.get("/healthz").headers  # not a read route
    bundle = replica.get("/v1/lots/CON-1/bundle", headers=auditor).json()
    vkey = replica.app.state.identity.log_vkey
    report = verify_bundle(
        parse_bundle(bundle), vkey, replica.app.state.identity.operator_public_key, Tolerances()
    )
    assert report.ok, report.failures
    # A write through the replica-reading server goes to the primary.
    plant, mine = cast["plant"], cast["mine"]
    ledger.post(plant, receive(plant, ledger.heads, mine.id, [("CON-1", 1_000_000)]))
    assert primary.get("/v1/log").json()["size"] == size + 1


def test_a_lagging_replica_answers_at_its_own_checkpoint(
    ledger: Ledger, cast: dict[str, Party], standby: TemporaryStandby, primary: TestClient
) -> None:
    chain(ledger, cast)
    standby.caught_up()
    replica, auditor = ledger.client, ledger.auth(cast["auditor"])
    vkey = replica.app.state.identity.log_vkey
    before = {
        path: primary.get(path, headers=auditor).json()
        for path in ("/v1/lots/CON-1", "/v1/lots/CON-1/provenance", "/v1/flags")
    }
    standby.pause()
    try:
        held_note, held = opened(replica, vkey)
        plant, mine = cast["plant"], cast["mine"]
        ledger.post(plant, receive(plant, ledger.heads, mine.id, [("CON-1", 1_000_000)]))
        ledger.post(mine, extract(mine, "ORE-2", 5_000_000))
        newest_note, newest = opened(primary, vkey)
        assert newest.size == held.size + 2
        health = replica.get("/healthz").json()
        assert health["size"] == newest.size
        assert health["replicas"] == [{"size": held.size, "behind": 2}]
        lagging(replica, primary, auditor, held, newest, before)
        # The replica's checkpoint is a prefix of the primary's: one log, behind.
        proof = primary.get(
            "/v1/proofs/consistency", params={"first": held.size, "second": newest.size}
        ).json()
        merkle_verify.verify_consistency(
            held.size, newest.size, held.root, newest.root, [b64decode(h) for h in proof["hashes"]]
        )
        assert held_note != newest_note
    finally:
        standby.resume()
    standby.caught_up()
    answer = replica.get("/v1/lots/CON-1", headers=auditor)
    assert size_of(answer) == newest.size
    assert answer.json() == primary.get("/v1/lots/CON-1", headers=auditor).json()
    assert answer.json()["custodian"] == "gansu-plant"


def lagging(
    replica: TestClient,
    primary: TestClient,
    auditor: dict[str, str],
    held: Checkpoint,
    newest: Checkpoint,
    before: dict[str, Any],
) -> None:
    """What the paused replica answers: the state at `held`, verified against it."""
    identity = replica.app.state.identity
    for path, earlier in before.items():
        answer = replica.get(path, headers=auditor)
        assert answer.status_code == 200 and size_of(answer) == held.size, path
        assert answer.json() == earlier, path  # the state at held.size, nothing newer
    assert primary.get("/v1/lots/CON-1", headers=auditor).json() != before["/v1/lots/CON-1"]
    provenance = replica.get("/v1/lots/CON-1/provenance", headers=auditor).json()
    assert open_checkpoint(provenance["checkpoint"], identity.log_vkey).size == held.size
    assert provenance["verdict"] == "ok" and provenance["checkpoint_problem"] is None
    assert all(step["verified"] for step in provenance["steps"]), provenance["steps"]
    # The bundle verifies offline against the checkpoint it carries, of the replica's size.
    answer = replica.get("/v1/lots/CON-1/bundle", headers=auditor)
    bundle = answer.json()
    report = verify_bundle(
        parse_bundle(bundle), identity.log_vkey, identity.operator_public_key, Tolerances()
    )
    assert report.ok, report.failures
    assert report.checkpoint is not None and report.checkpoint.size == held.size
    assert report.state is not None and report.state.custodian == "baotou-mine"
    # Every entry's inclusion proof at the replica's size verifies against its checkpoint.
    for entry in bundle["entries"]:
        proof = replica.get(
            "/v1/proofs/inclusion", params={"index": entry["index"], "size": held.size}
        )
        assert size_of(proof) == held.size
        merkle_verify.verify_inclusion(
            entry["index"],
            held.size,
            b64decode(entry["leaf_hash"]),
            [b64decode(h) for h in proof.json()["hashes"]],
            held.root,
        )
    # What only the primary has: 503 replica_behind, Retry-After: 1; beyond both: as always.
    for path, status in (
        (f"/v1/proofs/inclusion?index=0&size={newest.size}", 503),
        (f"/v1/proofs/inclusion?index=0&size={newest.size + 1}", 422),
        (f"/v1/proofs/consistency?first=1&second={newest.size}", 503),
        (f"/v1/entries/{newest.size - 1}", 503),
        (f"/v1/entries/{newest.size}", 404),
        ("/v1/lots/ORE-2", 503),
        ("/v1/lots/ORE-2/provenance", 503),
        ("/v1/lots/ORE-2/bundle", 503),
        ("/v1/lots/ORE-2/qr.png", 503),
        ("/v1/lots/ORE-9", 404),
    ):
        answer = replica.get(path, headers=auditor)
        assert answer.status_code == status, (path, answer.text)
        assert size_of(answer) == held.size, path
        if status == 503:
            assert answer.headers["Retry-After"] == "1"
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["code"] == "replica_behind"
            assert answer.json()["size"] == held.size
    page = replica.get("/lots/ORE-2")
    assert page.status_code == 503 and page.headers["Retry-After"] == "1"
    assert "recorded moments ago" in page.text
    assert replica.get("/lots/ORE-9").status_code == 404


def test_a_read_database_of_another_log_is_refused(
    home: Home, database_url: str, standby: TemporaryStandby, tmp_path: Path
) -> None:
    """A replica URL naming another log's database stops the server at start."""
    postgres: TemporaryPostgres = standby.primary
    other = f"{_name(database_url)}_other"
    other_url = postgres.create_database(other, template="template_ree")
    try:
        init_home(tmp_path / "other", other_url, ORIGIN)
        standby.caught_up()
        settings = Settings(
            home=home.path,
            database_url=database_url,
            read_database_url=standby.database_url(other),
            origin=ORIGIN,
        )
        with pytest.raises(HomeError, match="REE_LEDGER_READ_DATABASE_URL"):
            create_app(settings)
    finally:
        postgres.drop_database(other)


def test_a_read_cancelled_by_the_replica_is_503_not_500(
    ledger: Ledger, cast: dict[str, Party], standby: TemporaryStandby, database_url: str
) -> None:
    """A read whose snapshot conflicts with what the replica replays (rows it could see,
    deleted and vacuumed away on the primary) is cancelled by PostgreSQL, here at once
    (max_standby_streaming_delay = 0): the answer is 503 database_conflict, Retry-After: 1."""
    chain(ledger, cast)
    conninfo = standby.primary.conninfo(_name(database_url))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE scratch (n int)")
        conn.execute("INSERT INTO scratch SELECT generate_series(1, 100)")
    standby.caught_up()
    app = ledger.client.app

    def conflicted(request: Request) -> Iterator[Database]:
        with contextmanager(get_read_db)(request) as view:  # the snapshot is taken
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("DELETE FROM scratch")
                conn.execute("VACUUM scratch")
            standby.caught_up()  # replay has cancelled the read to go on
            yield view

    standby.query("ALTER SYSTEM SET max_standby_streaming_delay = 0")
    standby.query("SELECT pg_reload_conf()")
    app.dependency_overrides[get_read_db] = conflicted
    try:
        answer = ledger.client.get("/v1/lots/CON-1/provenance")
    finally:
        app.dependency_overrides.clear()
        standby.query("ALTER SYSTEM RESET max_standby_streaming_delay")
        standby.query("SELECT pg_reload_conf()")
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["code"] == "database_conflict"
    assert ledger.client.get("/v1/lots/CON-1/provenance").status_code == 200


def test_a_replica_that_cannot_be_reached_is_passed_over(
    ledger: Ledger, cast: dict[str, Party], standby: TemporaryStandby, home: Home, database_url: str
) -> None:
    """Reads go to the next replica in turn, or to the primary when none answers."""
    chain(ledger, cast)
    name = _name(database_url)
    with TemporaryStandby(standby.primary) as second:
        second.caught_up()
        standby.caught_up()

        def app_reading(*replicas: TemporaryStandby) -> Any:
            urls = ",".join(replica.database_url(name) for replica in replicas)
            return create_app(
                Settings(
                    home=home.path, database_url=database_url, read_database_url=urls, origin=ORIGIN
                )
            )

        both, alone = app_reading(second, standby), app_reading(second)
    # `second` is stopped: `both` reads from `standby`, `alone` from the primary.
    standby.pause()
    try:
        mine = cast["mine"]
        ledger.post(mine, extract(mine, "ORE-5"))
        size = queries.log_size(ledger.client.app.state.db)
        for app, answered in ((both, size - 1), (alone, size)):
            with TestClient(app) as client:
                replicas = client.get("/healthz").json()["replicas"]
                assert replicas[0] == {"size": None, "behind": None}
                assert replicas[1:] == ([{"size": size - 1, "behind": 1}] if app is both else [])
                for _ in range(3):
                    answer = client.get("/v1/log")
                    assert answer.status_code == 200 and size_of(answer) == answered
            app.state.db.dispose()
    finally:
        standby.resume()
