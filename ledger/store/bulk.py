"""Many rows in one statement, at the driver: the write path's inserts, updates and IN reads.

SQLAlchemy's executemany builds a parameter dict per row through its compiler, which cost
more than the database itself on a batch of entries. These helpers write the SQL once per
call and convert each value with its column type's own bind (or result) processor for the
connection's dialect, so the stored bytes are exactly those SQLAlchemy would have written.
"""

import json
import json.encoder
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import JSON, Connection, LargeBinary, Table
from sqlmodel import Session, SQLModel

# Ids per IN (...) list: far below every backend's limit on bound parameters.
IN_CHUNK = 500

Processor = Callable[[Any], Any] | None


def table(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def insert_tuples(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """INSERT `rows`, tuples of the values of `columns` in that order, with one executemany.

    The rows a caller builds as tuples skip a dict per row; each value goes through its column
    type's bind processor (JSON as json.dumps text on SQLite).
    """
    if not rows:
        return
    connection = session.connection()
    sql = (
        f"INSERT INTO {_quote(connection, table.name)} ({_names(connection, list(columns))}) "
        f"VALUES ({', '.join([_marker(connection)] * len(columns))})"
    )
    connection.exec_driver_sql(sql, _bound(connection, table, columns, rows))


def update_tuples(
    session: Session,
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """UPDATE `columns` of the rows whose `key` equals each row's last value, one executemany.

    Each row is the values of `columns` in that order, then the key's value.
    """
    if not rows:
        return
    connection = session.connection()
    marker = _marker(connection)
    assignments = ", ".join(f"{_quote(connection, name)} = {marker}" for name in columns)
    sql = (
        f"UPDATE {_quote(connection, table.name)} SET {assignments} "
        f"WHERE {_quote(connection, key)} = {marker}"
    )
    connection.exec_driver_sql(sql, _bound(connection, table, [*columns, key], rows))


def select_in_tuples(
    session: Session, table: Table, key: str, ids: Iterable[Any], names: Sequence[str]
) -> list[tuple[Any, ...]]:
    """The rows whose `key` is one of `ids`, as tuples of the Python values of `names`."""
    connection = session.connection()
    found: list[tuple[Any, ...]] = []
    wanted = list(ids)
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        sql = (
            f"SELECT {_names(connection, list(names))} FROM {_quote(connection, table.name)} "
            f"WHERE {_quote(connection, key)} IN ({', '.join([_marker(connection)] * len(chunk))})"
        )
        found.extend(
            _processed(connection, table, names, connection.exec_driver_sql(sql, tuple(chunk)))
        )
    return found


def select_all_tuples(
    session: Session, table: Table, names: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Every row of `table`, as tuples of the Python values of `names`."""
    connection = session.connection()
    sql = f"SELECT {_names(connection, list(names))} FROM {_quote(connection, table.name)}"
    return _processed(connection, table, names, connection.exec_driver_sql(sql))


def _processed(
    connection: Connection, table: Table, names: Sequence[str], rows: Iterable[Any]
) -> list[tuple[Any, ...]]:
    """The driver's rows of `names` as Python values, through the column types' processors."""
    processors = [
        (position, process)
        for position, name in enumerate(names)
        if (process := _result_processor(connection, table, name)) is not None
    ]
    if not processors:
        return [tuple(row) for row in rows]
    found = []
    for row in rows:
        values = list(row)
        for position, process in processors:
            values[position] = process(values[position])
        found.append(tuple(values))
    return found


_DRIVER_KEY = "ree_ledger.driver"


def driver_rows(session: Session, sql: str, params: Sequence[object]) -> Sequence[Any]:
    """The rows of `sql` (`?` marks), run on the session's DBAPI connection, in its transaction.

    Plain driver SQL on the driver's own cursor: building the statement with SQLAlchemy's
    expression language costs ten times the query, and even `exec_driver_sql` costs about
    30 µs of SQLAlchemy per statement, more than a primary-key read itself (about 10 µs on
    SQLite); proofs and audit pages are read often. For column types that need no
    conversion only: integers, strings, binary (which a driver may give as a memoryview).
    """
    # The driver connection of the session's transaction, kept while that transaction lasts
    # (session.connection() costs ~1 us of SQLAlchemy: a third of a warm proof's read). The
    # transaction is held weakly: it holds the session, whose info this is (no cycle).
    transaction = session.get_transaction()
    held = session.info.get(_DRIVER_KEY)
    if held is None or held[0]() is not transaction or not transaction.is_active:
        connection = session.connection()  # begins the session's transaction if need be
        driver = connection.connection.driver_connection
        assert driver is not None  # a live connection: the session has just checked it out
        held = session.info[_DRIVER_KEY] = (
            weakref.ref(session.get_transaction()),
            driver,
            connection.dialect.paramstyle == "qmark",
        )
    _, driver, qmark = held
    if not qmark:
        sql = sql.replace("?", "%s")
    cursor = driver.cursor()
    try:
        cursor.execute(sql, params)
        rows: Sequence[Any] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


def _bound(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> Sequence[tuple[Any, ...]]:
    """`rows` with each value converted by its column's bind processor, if it has one.

    A column holding the very same object in every row is converted once.
    """
    processed = [
        (position, process)
        for position, name in enumerate(names)
        if (process := _bind_processor(connection, table, name)) is not None
    ]
    if not processed:
        return rows
    first = rows[0]
    constant: list[tuple[int, Any]] = []
    varying: list[tuple[int, Callable[[Any], Any]]] = []
    for position, process in processed:
        value = first[position]
        if all(row[position] is value for row in rows):
            constant.append((position, process(value)))
        else:
            varying.append((position, process))
    converted = []
    for row in rows:
        values = list(row)
        for position, process in varying:
            values[position] = process(values[position])
        for position, done in constant:
            values[position] = done
        converted.append(tuple(values))
    return converted


def _bind_processor(connection: Connection, table: Table, name: str) -> Processor:
    dialect = connection.dialect
    column_type = table.c[name].type
    if isinstance(column_type, LargeBinary) and dialect.name == "sqlite":
        return None  # sqlite3 binds bytes as a BLOB itself; the processor wraps each in a view
    processor: Processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    if processor is not None and isinstance(column_type, JSON) and _plain_json(connection):
        return _json_processor(processor)
    return processor


# json.dumps's own C encoder with json.dumps's defaults, made once: json.dumps makes one per
# call, which costs more than encoding a lot's composition. No circular-reference markers:
# any failure (a cycle, a value JSON cannot hold) falls back to the dialect's processor,
# which is json.dumps itself and raises as it always did.
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ENCODER = (
    None
    if _MAKE_ENCODER is None
    else _MAKE_ENCODER(
        None,
        json.encoder.JSONEncoder().default,
        json.encoder.encode_basestring_ascii,
        None,
        ": ",
        ", ",
        False,
        False,
        True,
    )
)


def _plain_json(connection: Connection) -> bool:
    """Whether the dialect stores a JSON column as json.dumps's text, unchanged (SQLite)."""
    dialect = connection.dialect
    text_type = getattr(JSON().dialect_impl(dialect), "_str_impl", None)
    return (
        _ENCODER is not None
        and dialect.name == "sqlite"
        and getattr(dialect, "_json_serializer", None) in (None, json.dumps)
        and text_type is not None
        and text_type.bind_processor(dialect) is None
    )


def _json_processor(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """json.dumps(value), exactly, for dicts and lists; anything else as `fallback` does."""
    encoder = _ENCODER
    assert encoder is not None

    def process(value: Any) -> Any:
        if type(value) in (dict, list, tuple):
            try:
                return "".join(encoder(value, 0))
            except (TypeError, ValueError, RecursionError):
                pass
        return fallback(value)

    return process


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
