"""The log's witness configuration, its stored cosignatures and the submitter's lease, on
both backends."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.service import witnesses
from ledger.service.witnesses import WitnessConfigError
from ledger.store import witnesses as witnessstore
from ledger.store.engine import Database
from ledger.tlog.cosignature import witness_vkey
from ledger.tlog.keys import raw_public_key


def _vkey(name: str) -> str:
    return witness_vkey(name, raw_public_key(Ed25519PrivateKey.generate()))


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    yield database  # type: ignore[misc]
    database.dispose()


def test_a_fresh_log_has_no_witness_and_quorum_zero(db: Database) -> None:
    current = witnesses.config(db)
    assert current.witnesses == () and current.quorum == 0
    assert "no witnesses" in current.describe()


def test_add_then_quorum_then_remove(db: Database) -> None:
    a, b = _vkey("w.example/a"), _vkey("w.example/b")
    witnesses.add_witness(db, "http://127.0.0.1:7001/", a)
    current = witnesses.add_witness(db, "https://w.example/b", b, quorum=2)
    assert [(w.name, w.url) for w in current.witnesses] == [
        ("w.example/a", "http://127.0.0.1:7001"),
        ("w.example/b", "https://w.example/b"),
    ]
    assert current.quorum == 2
    with pytest.raises(WitnessConfigError, match="the quorum is 2: lower it first"):
        witnesses.remove_witness(db, "w.example/a")
    witnesses.set_quorum(db, 1)
    assert [w.name for w in witnesses.remove_witness(db, "w.example/a").witnesses] == [
        "w.example/b"
    ]


def test_adding_a_configured_key_again_moves_its_url(db: Database) -> None:
    a = _vkey("w.example/a")
    witnesses.add_witness(db, "http://127.0.0.1:7001", a)
    current = witnesses.add_witness(db, "http://127.0.0.1:7002", a)
    assert [(w.name, w.url) for w in current.witnesses] == [
        ("w.example/a", "http://127.0.0.1:7002")
    ]


@pytest.mark.parametrize(
    ("url", "vkey", "quorum", "reason"),
    [
        ("ftp://w.example", None, None, "must be an http:// or https:// address"),
        ("http://w.example?x=1", None, None, "must not carry a query"),
        ("http://w.example", "w.example/a+00000000+AAAA", None, "witness key"),
        ("http://w.example", None, 2, "quorum 2 is impossible with 1 witnesses"),
    ],
)
def test_bad_configuration_is_refused_and_nothing_is_written(
    db: Database, url: str, vkey: str | None, quorum: int | None, reason: str
) -> None:
    with pytest.raises(WitnessConfigError, match=reason):
        witnesses.add_witness(db, url, vkey or _vkey("w.example/a"), quorum)
    assert witnesses.config(db).witnesses == ()


def test_a_log_key_is_not_a_witness_key(db: Database) -> None:
    from ledger.tlog.keys import verifier_key

    log_vkey = verifier_key("log.example", raw_public_key(Ed25519PrivateKey.generate()))
    with pytest.raises(WitnessConfigError, match="0x01"):
        witnesses.add_witness(db, "http://w.example", log_vkey)


def test_another_key_under_a_configured_name_is_refused(db: Database) -> None:
    witnesses.add_witness(db, "http://w.example", _vkey("w.example/a"))
    with pytest.raises(WitnessConfigError, match="configured with another key"):
        witnesses.add_witness(db, "http://w.example", _vkey("w.example/a"))


def test_a_cosignature_stored_twice_is_kept_once(db: Database) -> None:
    with db.write_session() as session:
        witnessstore.add_cosignatures(session, 5, [("k1", "— a AAAA")])
        session.commit()
    with db.write_session() as session:
        witnessstore.add_cosignatures(session, 5, [("k1", "— a BBBB"), ("k2", "— b CCCC")])
        session.commit()
    with db.read_session() as session:
        assert witnessstore.cosignature_lines(session, 5, {"k1", "k2"}) == ["— a AAAA", "— b CCCC"]
        assert witnessstore.last_cosigned_size(session, "k1") == 5
        assert witnessstore.last_cosigned_size(session, "k3") == 0


def test_one_process_holds_the_lease_until_it_expires(db: Database) -> None:
    def take(holder: str, now_ms: int) -> bool:
        with db.write_session() as session:
            held = witnessstore.take_lease(session, holder, now_ms, 30_000)
            session.commit()
        return held

    assert take("a", 1_000)
    assert not take("b", 2_000)
    assert take("a", 20_000)  # renewed: now until 50,000
    assert not take("b", 49_999)
    assert take("b", 50_001)
    with db.read_session() as session:
        assert not witnessstore.lease_free(session, "a", 60_000)
        assert witnessstore.lease_free(session, "b", 60_000)
