"""A small ledger with every kind of row, copies of it to damage, and the damage itself.

`populate` writes a ledger whose tables all hold rows: participants (one with a second key,
one with a revoked key), lots in every status (in transit, declared, exported, consumed
part-way) and with and without a deposit, lot edges, two declarations, a flag and a read
token, over several batches so that checkpoints do not fall on every size. `LedgerCopies`
hands each test a fresh copy of it on SQLite (a file copy) or PostgreSQL (CREATE DATABASE …
TEMPLATE).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    inspect,
    select,
    update,
)
from sqlmodel import SQLModel

import ledger.store.tables  # noqa: F401  (registers the tables in SQLModel.metadata)
from ledger.home import Home, init_home
from ledger.service import witnesses
from ledger.service.ingest import ingest
from ledger.service.registry import key_add_event
from ledger.service.tokens import issue_token
from ledger.store import witnesses as witnessstore
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.tlog import merkle
from ledger.tlog.cosignature import cosign, witness_vkey
from ledger.tlog.keys import raw_public_key
from ledger.tlog.note import split_note
from tests.pgserver import TemporaryPostgres
from tests.reliability.client import event_hash
from tests.support import (
    Party,
    decide,
    declare,
    event,
    extract,
    licence_issue,
    quota_issue,
    receive,
    register,
    ship,
    transform,
)

ORIGIN = "tamper.ree-ledger.local/log"
_copies = itertools.count(1)


@dataclass
class Cast:
    operator: Party
    mine: Party
    mine_second_key: Party  # the mine's key added by participant.key_add
    plant: Party
    plant_spare_key: Party  # added, then revoked
    exporter: Party
    customs: Party
    lab: Party
    authority: Party  # role authority: licences and quotas


@dataclass
class Populated:
    """What the populated ledger holds, for tests that re-sign or roll back."""

    database_url: str
    home: Path
    identity: LogIdentity
    cast: Cast
    size: int
    # database url of a copy taken when the log had `rollback_size` entries
    rollback_url: str
    rollback_size: int
    checkpoints: dict[int, str]  # size -> note, as acknowledged

    @property
    def log_vkey(self) -> str:
        return self.identity.log_vkey

    @property
    def operator_key_b64(self) -> str:
        return self.identity.operator_key_b64


# Alembic's own table, which no model declares (alembic/runtime/migration.py makes it).
ALEMBIC_VERSION = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)
)


def table(name: str) -> Table:
    return ALEMBIC_VERSION if name == ALEMBIC_VERSION.name else SQLModel.metadata.tables[name]


def schema_columns() -> list[tuple[str, str]]:
    """Every (table, column) the migrations make: the models' tables and Alembic's own."""
    tables = [*SQLModel.metadata.sorted_tables, ALEMBIC_VERSION]
    return sorted((tbl.name, column.name) for tbl in tables for column in tbl.columns)


def database_columns(database_url: str) -> list[tuple[str, str]]:
    """Every (table, column) the database itself holds, as its catalogue tells."""
    engine = create_engine(database_url)
    try:
        catalogue = inspect(engine)
        return sorted(
            (name, column["name"])
            for name in catalogue.get_table_names()
            for column in catalogue.get_columns(name)
        )
    finally:
        engine.dispose()


class Chain:
    """Posts batches with `ingest` and follows lot heads; keeps every checkpoint."""

    def __init__(self, database_url: str, identity: LogIdentity) -> None:
        self.db = Database(database_url)
        self.identity = identity
        self.heads: dict[str, str] = {}
        self.checkpoints: dict[int, str] = {}
        self.size = 0

    def batch(self, *signed: tuple[Party, dict[str, Any]]) -> None:
        envelopes = [party.envelope(ev) for party, ev in signed]
        accepted = ingest(self.db, self.identity, envelopes, datetime.now(UTC))
        for (_, ev), result in zip(signed, accepted, strict=True):
            touched = list(ev["prev"])
            if ev["type"] == "lot.extract":
                touched.append(ev["lot"]["id"])
            if ev["type"] == "lot.transform":
                touched.extend(output["id"] for output in ev["outputs"])
            for lot in touched:
                self.heads[lot] = result.event_hash
        self.size = accepted[-1].index + 1
        self.checkpoints[self.size] = accepted[-1].checkpoint


WITNESS_NAME = "witness.tamper.example/w1"


def _witnessed(chain: Chain, sizes: list[int]) -> None:
    """A configured witness (quorum 1) and its cosignatures of the checkpoints of `sizes`,
    made by the witness's own signing code and stored as the submitter stores them."""
    key = Ed25519PrivateKey.generate()
    vkey = witness_vkey(WITNESS_NAME, raw_public_key(key))
    witnesses.add_witness(chain.db, "http://127.0.0.1:9", vkey, quorum=1)
    with chain.db.write_session() as session:
        for size in sizes:
            text, _ = split_note(chain.checkpoints[size])
            line = cosign(text.encode(), WITNESS_NAME, key, 1_765_000_000 + size)
            witnessstore.add_cosignatures(session, size, [(vkey, line.rstrip("\n"))])
        session.commit()


def _key_add(party: Party) -> dict[str, Any]:
    return key_add_event(party.id, party.public_key, datetime(2026, 3, 1, 7, 0, tzinfo=UTC))


def _key_revoke(party: Party) -> dict[str, Any]:
    return event("operator", "participant.key_revoke", participant=party.id, keyid=party.keyid)


def populate(database_url: str, home: Path, snapshot: Callable[[str], str]) -> Populated:
    """Write the ledger; `snapshot(url)` copies the database part-way, for the rollback."""
    identity = init_home(home, database_url, ORIGIN)
    operator = Party("operator", Home(home).operator_key())
    cast = Cast(
        operator=operator,
        mine=Party("mine-a"),
        mine_second_key=Party("mine-a"),
        plant=Party("plant-b"),
        plant_spare_key=Party("plant-b"),
        exporter=Party("exporter-c"),
        customs=Party("customs-d"),
        lab=Party("lab-e"),
        authority=Party("ministry-f"),
    )
    chain = Chain(database_url, identity)
    op = operator
    chain.batch(
        (op, register(op, cast.mine, ["mine"], "AU")),
        (op, register(op, cast.plant, ["processor"])),
        (op, register(op, cast.exporter, ["processor", "exporter"])),
        (op, register(op, cast.customs, ["customs"])),
        (op, register(op, cast.lab, ["lab"], "CH")),
    )
    chain.batch((op, _key_add(cast.mine_second_key)))
    chain.batch((op, _key_add(cast.plant_spare_key)), (op, _key_revoke(cast.plant_spare_key)))
    mine, exporter = cast.mine, cast.exporter
    ore_2 = extract(mine, "ORE-2", 2_000_000)
    ore_2["lot"]["spec"] = "run-of-mine"
    chain.batch((mine, extract(mine, "ORE-1")), (mine, ore_2))
    rollback_size = chain.size
    chain.db.dispose()
    rollback_url = snapshot(database_url)
    chain.db = Database(database_url)
    second = cast.mine_second_key
    h = chain.heads
    chain.batch(
        (second, transform(second, h, [("ORE-1", 600_000)], [("CON-1", "concentrate", 80_000)]))
    )
    chain.batch((mine, ship(mine, h, exporter.id, [("CON-1", 80_000)])))
    chain.batch((exporter, receive(exporter, h, mine.id, [("CON-1", 60_000)])))  # flagged
    assay = event(
        cast.lab.id,
        "lot.assay",
        prev={"CON-1": h["CON-1"]},
        lot="CON-1",
        composition_ppm={"La": 120000, "Ce": 210000},
        method="ICP-MS",
        lab="Lab E",
    )
    chain.batch((cast.lab, assay))
    chain.batch((exporter, declare(exporter, h, "DEC-1", ["CON-1"], 60_000)))
    chain.batch((cast.customs, decide(cast.customs, h, "DEC-1", ["CON-1"], "release")))
    chain.batch((mine, ship(mine, h, cast.plant.id, [("ORE-2", 2_000_000)])))
    chain.batch((mine, extract(mine, "ORE-3", 500_000)))
    chain.batch((mine, ship(mine, h, exporter.id, [("ORE-3", 500_000)])))
    received = receive(exporter, h, mine.id, [("ORE-3", 500_000)])
    h["ORE-3"] = event_hash(received)  # the declaration builds on it within the batch
    chain.batch((exporter, received), (exporter, declare(exporter, h, "DEC-2", ["ORE-3"], 1)))
    # Separation destroys the deposit's pattern: a lot whose deposit is NULL.
    chain.batch(
        (mine, transform(mine, h, [("ORE-1", 400_000)], [("OX-1", "oxide", 20_000)], "separation"))
    )
    # An authority (DESIGN §9.1): two licences, one revoked, and a quota the next extraction
    # draws; the declarations above name "LIC-1" before it was issued (flagged, unknown).
    authority = cast.authority
    limits = {"destination": ["JP"], "hs_codes": ["2846"]}
    chain.batch((op, register(op, authority, ["authority"])))
    chain.batch(
        (authority, licence_issue(authority, "LIC-8", exporter.id, ["Nd"], 1_000)),
        (authority, licence_issue(authority, "LIC-9", exporter.id, ["Tb"], 5, **limits)),
        (authority, quota_issue(authority, "Q-1", mine.id, 500_000)),
        (authority, quota_issue(authority, "Q-2", mine.id, 9, deposit="monazite")),
    )
    revoke = event(authority.id, "licence.revoke", licence="LIC-9", reason="misused")
    chain.batch((authority, revoke), (mine, extract(mine, "ORE-4", 100_000)))
    # A declaration that draws LIC-8: declarations.licence and licence_g set, used_g drawn.
    chain.batch((mine, ship(mine, h, exporter.id, [("ORE-4", 100_000)])))
    received = receive(exporter, h, mine.id, [("ORE-4", 100_000)])
    h["ORE-4"] = event_hash(received)
    filed = declare(exporter, h, "DEC-3", ["ORE-4"], 100_000)
    filed["declaration"]["licence"] = "LIC-8"
    chain.batch((exporter, received), (exporter, filed))
    # A witness cosigned two checkpoints (not those the checkpoint tests delete or swap).
    plain = [size for size in sorted(chain.checkpoints) if size not in (10, 11, 13)]
    _witnessed(chain, [plain[0], chain.size])
    issue_token(chain.db, cast.customs.id, datetime.now(UTC))
    chain.db.dispose()
    return Populated(
        database_url=database_url,
        home=home,
        identity=identity,
        cast=cast,
        size=chain.size,
        rollback_url=rollback_url,
        rollback_size=rollback_size,
        checkpoints=dict(chain.checkpoints),
    )


def _copy_sqlite(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    for suffix in ("-wal",):
        side = source.with_name(source.name + suffix)
        if side.exists():
            shutil.copyfile(side, target.with_name(target.name + suffix))


class LedgerCopies:
    """Fresh copies of one populated database, on either backend."""

    def __init__(self, source_url: str, workdir: Path, postgres: TemporaryPostgres | None):
        self.source_url = source_url
        self.workdir = workdir
        self.postgres = postgres

    def snapshot(self, source_url: str) -> str:
        """A lasting copy of `source_url` as it is now (no connection may be open to it)."""
        number = next(_copies)
        if self.postgres is None:
            target = self.workdir / f"snapshot-{number}.db"
            _copy_sqlite(Path(source_url.removeprefix("sqlite:///")), target)
            return f"sqlite:///{target}"
        return self.postgres.create_database(
            f"tamper_snapshot_{number}", template=source_url.rsplit("/", 1)[1]
        )

    @contextmanager
    def copy(self, source_url: str | None = None) -> Iterator[str]:
        """Yield the URL of a new copy of `source_url` (default: the populated ledger)."""
        source = source_url or self.source_url
        number = next(_copies)
        if self.postgres is None:
            target = self.workdir / f"copy-{number}.db"
            _copy_sqlite(Path(source.removeprefix("sqlite:///")), target)
            yield f"sqlite:///{target}"
            return
        name = f"tamper_copy_{number}"
        url = self.postgres.create_database(name, template=source.rsplit("/", 1)[1])
        try:
            yield url
        finally:
            self.postgres.drop_database(name)


# --- edits -----------------------------------------------------------------------------


def mutate(value: object, column: Column[Any]) -> object:
    """A different value of the same type and length, so that every backend stores it."""
    if value is None:
        kind = column.type.python_type
        if kind is datetime:
            return datetime(2026, 1, 1, tzinfo=UTC)
        return 1 if kind is int else "x"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1000
    if isinstance(value, str):
        return value[:-1] + ("x" if value[-1:] != "x" else "y")
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        return bytes([raw[0] ^ 1]) + raw[1:]
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, dict):
        first = sorted(value)[0] if value else "Zz"
        old = value.get(first, 0)
        return {**value, first: old + 1 if isinstance(old, int) else f"{old}x"}
    if isinstance(value, list):
        return [*value, "X"]
    raise TypeError(f"no mutation for {type(value).__name__}")


def primary_key(name: str) -> list[str]:
    return [column.name for column in table(name).primary_key.columns]


def pick_row(connection: Connection, name: str, column: str, where: dict[str, Any]) -> dict:
    """The row named by `where`, or the first (by primary key) whose `column` is not null."""
    tbl = table(name)
    query = select(tbl).order_by(*tbl.primary_key.columns)
    for key, value in where.items():
        query = query.where(tbl.c[key] == value)
    rows = [dict(row._mapping) for row in connection.execute(query)]
    assert rows, f"{name}: no row matches {where}"
    return next((row for row in rows if row[column] is not None), rows[0])


def set_column(connection: Connection, name: str, row: dict[str, Any], column: str) -> object:
    """Replace `column` of `row` with a mutated value; returns the new value."""
    tbl = table(name)
    new = mutate(row[column], tbl.c[column])
    keys = primary_key(name)
    condition = [tbl.c[key] == row[key] for key in keys]
    connection.execute(update(tbl).where(*condition).values({column: new}))
    return new


def delete_row(connection: Connection, name: str, row: dict[str, Any]) -> None:
    tbl = table(name)
    connection.execute(delete(tbl).where(*[tbl.c[k] == row[k] for k in primary_key(name)]))


def rows_of(connection: Connection, name: str) -> list[dict[str, Any]]:
    tbl = table(name)
    query = select(tbl).order_by(*tbl.primary_key.columns)
    return [dict(row._mapping) for row in connection.execute(query)]


def recompute_tree(connection: Connection) -> bytes:
    """Rewrite every tree node and the log head from the stored leaf hashes; returns the root,
    as an attacker who can write the database (but has no log key) would."""
    entries = rows_of(connection, "entries")
    tree = merkle.CompactRange.from_nodes(0, _no_nodes)
    nodes = [node for entry in entries for node in tree.append(bytes(entry["leaf_hash"]))]
    connection.execute(delete(table("tree_nodes")))
    connection.execute(
        table("tree_nodes").insert(),
        [{"level": level, "idx": idx, "hash": digest} for level, idx, digest in nodes],
    )
    root = tree.root()
    connection.execute(update(table("log_head")).values(size=tree.size, root=root))
    return root


def _no_nodes(level: int, index: int) -> bytes:
    raise LookupError((level, index))


@contextmanager
def connect(database_url: str) -> Iterator[Connection]:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()
