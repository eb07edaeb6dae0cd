"""The witness's durable state: one SQLite database in its home, made by its own migrations.

Every change happens in one transaction that holds SQLite's write lock from BEGIN (BEGIN
IMMEDIATE) and is on disk when it commits (WAL, synchronous=FULL): reading the recorded size,
checking the request against it and recording the new checkpoint cannot interleave with another
request, in this process or another one on the same database.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from ledger.store.engine import make_engine
from ledger.witness.tables import LOGS, REFUSALS

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def database_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def upgrade(url: str) -> None:
    """Bring the witness database to the newest schema (the only way it is made)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


@dataclass(frozen=True)
class Cosigned:
    """The latest checkpoint the witness cosigned for a log."""

    origin: str
    size: int
    root: bytes
    timestamp: int
    note: str


@dataclass(frozen=True)
class Refusal:
    """A checkpoint validly signed by the log but inconsistent with the recorded one."""

    origin: str
    received_at: int
    old_size: int
    size: int
    reason: str
    note: str


class Transaction:
    """One write transaction on the witness's state; the store commits it or rolls it back."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def latest(self, origin: str) -> Cosigned | None:
        row = self._connection.execute(sa.select(LOGS).where(LOGS.c.origin == origin)).first()
        return None if row is None else _cosigned(row)

    def record(self, previous: Cosigned | None, new: Cosigned) -> None:
        """Replace `previous` (None: the log was never cosigned) by `new`, compare-and-swap."""
        values = {
            "size": new.size,
            "root": new.root,
            "timestamp": new.timestamp,
            "note": new.note,
        }
        if previous is None:
            self._connection.execute(sa.insert(LOGS).values(origin=new.origin, **values))
            return
        swapped = self._connection.execute(
            sa.update(LOGS)
            .where(
                LOGS.c.origin == previous.origin,
                LOGS.c.size == previous.size,
                LOGS.c.root == previous.root,
            )
            .values(**values)
        )
        if swapped.rowcount != 1:
            raise RuntimeError(f"the recorded checkpoint of {new.origin} changed under a write")

    def refuse(self, refusal: Refusal) -> None:
        self._connection.execute(
            sa.insert(REFUSALS).values(
                origin=refusal.origin,
                received_at=refusal.received_at,
                old_size=refusal.old_size,
                size=refusal.size,
                reason=refusal.reason,
                note=refusal.note,
            )
        )


class WitnessStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction holding the write lock; committed (fsync'd) if the block returns."""
        with self.engine.connect() as connection:
            connection.execution_options(ree_write=True)
            with connection.begin():
                yield Transaction(connection)

    def latest(self, origin: str) -> Cosigned | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(LOGS).where(LOGS.c.origin == origin)).first()
        return None if row is None else _cosigned(row)

    def logs(self) -> list[Cosigned]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(LOGS).order_by(LOGS.c.origin)).all()
        return [_cosigned(row) for row in rows]

    def refusals(self, origin: str | None = None) -> list[Refusal]:
        query = sa.select(REFUSALS).order_by(REFUSALS.c.id)
        if origin is not None:
            query = query.where(REFUSALS.c.origin == origin)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            Refusal(
                origin=row.origin,
                received_at=row.received_at,
                old_size=row.old_size,
                size=row.size,
                reason=row.reason,
                note=row.note,
            )
            for row in rows
        ]

    def dispose(self) -> None:
        self.engine.dispose()


def _cosigned(row: sa.Row[tuple[object, ...]]) -> Cosigned:
    return Cosigned(
        origin=row.origin,
        size=row.size,
        root=bytes(row.root),
        timestamp=row.timestamp,
        note=row.note,
    )
