"""Whether the database accepts writes: the errors that say it does not, and a probe for it.

A database refuses writes when it is read-only (a SQLite file opened read-only or with
`mode=ro`, a PostgreSQL standby, `default_transaction_read_only`) or when the server's role
may not write: operator states that pass, not bad input and not a bug.
"""

from sqlalchemy import text

from ledger.store.engine import SQLITE_BUSY_TIMEOUT_MS, Database

# PostgreSQL: read_only_sql_transaction, insufficient_privilege.
READ_ONLY_SQLSTATES = frozenset({"25006", "42501"})
# PostgreSQL: serialization_failure, deadlock_detected: what a hot standby answers when it
# cancels a query that conflicts with the WAL it replays ("conflict with recovery").
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
# A write that changes nothing, to the row every write changes. It waits for no lock that a
# reader or a writer holds: SQLite checks read-only before it takes the write lock (and the
# probe does not wait for it), PostgreSQL's row-exclusive table lock conflicts with no writer.
PROBE = text("UPDATE log_head SET size = size WHERE 1 = 0")


def refuses_writes(exc: BaseException) -> bool:
    """True if `exc` (a driver's error, SQLAlchemy's wrapping of one, or anything raised from
    one) says the database refuses writes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _error_name(current).startswith("SQLITE_READONLY"):
            return True
        if getattr(_driver_error(current), "sqlstate", None) in READ_ONLY_SQLSTATES:
            return True
        current = current.__cause__ or current.__context__
    return False


def cancelled_by_conflict(exc: BaseException) -> bool:
    """True if `exc` is PostgreSQL cancelling a statement for a conflict that passes (on a
    replica: with recovery): the same request may be sent again."""
    return getattr(_driver_error(exc), "sqlstate", None) in CONFLICT_SQLSTATES


def accepts_writes(db: Database) -> bool:
    """Try a write that changes nothing, and roll it back."""
    with db.engine.connect() as connection:
        if db.is_sqlite:
            # Never wait for another writer: a database someone is writing is writable.
            connection.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            connection.execute(PROBE)
        except Exception as exc:
            if refuses_writes(exc):
                return False
            if not _error_name(exc).startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                raise
        finally:
            connection.rollback()
            if db.is_sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    return True


def _driver_error(exc: BaseException) -> object:
    return getattr(exc, "orig", None) or exc


def _error_name(exc: BaseException) -> str:
    return str(getattr(_driver_error(exc), "sqlite_errorname", ""))
