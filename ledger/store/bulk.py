"""Many rows in one statement, at the driver: the write path's inserts, updates and IN reads.

SQLAlchemy's executemany builds a parameter dict per row through its compiler, which cost
more than the database itself on a batch of entries. These helpers write the SQL once per
call and convert each value with its column type's own bind (or result) processor for the
connection's dialect, so the stored bytes are exactly those SQLAlchemy would have written.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table
from sqlmodel import Session, SQLModel

# Ids per IN (...) list: far below every backend's limit on bound parameters.
IN_CHUNK = 500

Processor = Callable[[Any], Any] | None


def table(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) with one executemany."""
    if not rows:
        return
    connection = session.connection()
    columns = list(rows[0])
    sql = (
        f"INSERT INTO {_quote(connection, table.name)} ({_names(connection, columns)}) "
        f"VALUES ({', '.join([_marker(connection)] * len(columns))})"
    )
    connection.exec_driver_sql(sql, _tuples(connection, table, columns, rows))


def update_rows(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE the rows whose `key` column equals each row's `key` value, one executemany."""
    if not rows:
        return
    connection = session.connection()
    columns = [name for name in rows[0] if name != key]
    marker = _marker(connection)
    assignments = ", ".join(f"{_quote(connection, name)} = {marker}" for name in columns)
    sql = (
        f"UPDATE {_quote(connection, table.name)} SET {assignments} "
        f"WHERE {_quote(connection, key)} = {marker}"
    )
    connection.exec_driver_sql(sql, _tuples(connection, table, [*columns, key], rows))


def select_in(
    session: Session,
    table: Table,
    key: str,
    ids: Iterable[Any],
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The rows whose `key` is one of `ids` as dicts of Python values: `key` and `columns`
    (every column if None)."""
    connection = session.connection()
    names = [c.name for c in table.columns] if columns is None else [key, *columns]
    processors = [_result_processor(connection, table, name) for name in names]
    found: list[dict[str, Any]] = []
    wanted = list(ids)
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        sql = (
            f"SELECT {_names(connection, names)} FROM {_quote(connection, table.name)} "
            f"WHERE {_quote(connection, key)} IN ({', '.join([_marker(connection)] * len(chunk))})"
        )
        for row in connection.exec_driver_sql(sql, tuple(chunk)):
            found.append(
                {
                    name: value if process is None else process(value)
                    for name, process, value in zip(names, processors, row, strict=True)
                }
            )
    return found


def driver_rows(session: Session, sql: str, params: Sequence[object]) -> Sequence[Any]:
    """The rows of `sql` (`?` marks), run on the session's DBAPI connection, in its transaction.

    Plain driver SQL on the driver's own cursor: building the statement with SQLAlchemy's
    expression language costs ten times the query, and even `exec_driver_sql` costs about
    30 µs of SQLAlchemy per statement, more than a primary-key read itself (about 10 µs on
    SQLite); proofs and audit pages are read often. For column types that need no
    conversion only: integers, strings, binary (which a driver may give as a memoryview).
    """
    connection = session.connection()  # begins the session's transaction if need be
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    driver = connection.connection.driver_connection
    assert driver is not None  # a live connection: the session has just checked it out
    cursor = driver.cursor()
    try:
        cursor.execute(sql, params)
        rows: Sequence[Any] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


def _tuples(
    connection: Connection, table: Table, names: list[str], rows: Sequence[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    processors = [_bind_processor(connection, table, name) for name in names]
    if not any(processors):
        return [tuple(row[name] for name in names) for row in rows]
    return [
        tuple(
            row[name] if process is None else process(row[name])
            for name, process in zip(names, processors, strict=True)
        )
        for row in rows
    ]


def _bind_processor(connection: Connection, table: Table, name: str) -> Processor:
    dialect = connection.dialect
    processor: Processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _result_processor(connection: Connection, table: Table, name: str) -> Processor:
    dialect = connection.dialect
    column_type = table.c[name].type.dialect_impl(dialect)
    processor: Processor = column_type.result_processor(dialect, None)
    return processor


def _marker(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _quote(connection: Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def _names(connection: Connection, names: list[str]) -> str:
    return ", ".join(_quote(connection, name) for name in names)
