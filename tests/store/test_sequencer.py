"""The sequencer: concurrent writers on separate connections get distinct, gap-free indices."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from ledger.home import Home, init_home
from ledger.lots.state import Rejection
from ledger.service.audit import TrustedKeys, audit
from ledger.service.ingest import ingest
from ledger.store import log as logstore
from ledger.store.engine import Database
from tests.support import Party, extract, register, transform

ORIGIN = "seq.ree-ledger.local/log"
WRITERS = 6
PER_WRITER = 8


def _setup(tmp_path: Path, database_url: str) -> tuple[Home, list[Party]]:
    init_home(tmp_path / "home", database_url, ORIGIN)
    home = Home(tmp_path / "home")
    operator = Party("operator", home.operator_key())
    mines = [Party(f"mine-{n}") for n in range(WRITERS)]
    db = Database(database_url)
    envelopes = [operator.envelope(register(operator, mine, ["mine"])) for mine in mines]
    ingest(db, home.identity(ORIGIN), envelopes, datetime.now(UTC))
    db.dispose()
    return home, mines


def test_concurrent_writers_get_distinct_contiguous_indices(
    tmp_path: Path, database_url: str
) -> None:
    home, mines = _setup(tmp_path, database_url)
    identity = home.identity(ORIGIN)

    def writer(mine: Party) -> list[int]:
        db = Database(database_url)  # its own engine and connections, as another process would
        try:
            indices = []
            for n in range(PER_WRITER):
                envelope = mine.envelope(extract(mine, f"{mine.id}-ORE-{n}"))
                [accepted] = ingest(db, identity, [envelope], datetime.now(UTC))
                indices.append(accepted.index)
            return indices
        finally:
            db.dispose()

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(writer, mines))
    indices = sorted(index for batch in results for index in batch)
    assert indices == list(range(WRITERS, WRITERS + WRITERS * PER_WRITER))
    db = Database(database_url)
    keys = TrustedKeys(ORIGIN, identity.log_vkey, identity.operator_public_key)
    report = audit(db, keys)
    assert report.entries == WRITERS * (PER_WRITER + 1)
    db.dispose()


def test_conflicting_events_on_one_lot_exactly_one_wins(tmp_path: Path, database_url: str) -> None:
    home, mines = _setup(tmp_path, database_url)
    identity = home.identity(ORIGIN)
    mine = mines[0]
    db = Database(database_url)
    [first] = ingest(db, identity, [mine.envelope(extract(mine, "ORE-X"))], datetime.now(UTC))
    heads = {"ORE-X": first.event_hash}
    # Both name the same head in prev: whichever is sequenced second is stale.
    rivals = [
        mine.envelope(transform(mine, heads, [("ORE-X", 1000)], [(f"CON-{n}", "concentrate", 100)]))
        for n in range(WRITERS)
    ]

    def attempt(envelope: dict[str, object]) -> str:
        own = Database(database_url)
        try:
            ingest(own, identity, [envelope], datetime.now(UTC))
            return "accepted"
        except Rejection as exc:
            return exc.code
        finally:
            own.dispose()

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(attempt, rivals))
    assert outcomes.count("accepted") == 1
    assert set(outcomes) == {"accepted", "stale_prev"}
    with db.read_session() as session:
        assert logstore.current_size(session) == WRITERS + 2
    db.dispose()
