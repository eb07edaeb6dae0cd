"""Reads answer from one state of the log, on a read replica when there are some.

Every read route takes `ReadDbDep`: a view of the database (a replica in turn, else the
primary) pinned to one read-only transaction, so an answer built from several queries never
mixes two tree sizes. The answer names that size in the `Ree-Ledger-Tree-Size` header: the
size of the newest checkpoint the state it was computed from holds. A replica lags behind the
primary: asked for an entry, a tree size or a lot the replica does not hold yet but the
primary does, the answer is 503 `replica_behind` with `Retry-After: 1` (docs/operations.md),
never a 404 or 422 that would be false a moment later.
"""

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import OperationalError
from starlette.datastructures import MutableHeaders
from starlette.types import Scope

from api.security_headers import ResponseHeaders
from ledger.errors import Kind, LedgerError
from ledger.service import queries
from ledger.service.labels import missing_lots
from ledger.store.engine import Database
from ledger.store.replicas import ReadPool

TREE_SIZE_HEADER = "Ree-Ledger-Tree-Size"
# Seconds a client waits before asking a lagging replica again: replication is sub-second.
BEHIND_RETRY_AFTER_S = 1
LOGGER = logging.getLogger("ree_ledger.api")


class ReplicaBehind(LedgerError):
    """The replica that answered lacks what the client asked for; the primary has it: 503
    `replica_behind` with Retry-After, and the replica's tree `size`."""

    def __init__(self, detail: str, tree_size: int) -> None:
        super().__init__(
            Kind.UNAVAILABLE,
            "replica_behind",
            detail,
            retry_after=BEHIND_RETRY_AFTER_S,
            size=tree_size,
        )
        self.tree_size = tree_size


def get_read_db(request: Request) -> Iterator[Database]:
    """The database the read routes answer from, pinned to one state for this request: the
    next replica in turn; one that cannot be reached is passed over for the next, and the
    primary answers when none can."""
    pool: ReadPool = request.app.state.reads
    for db in pool.in_turn():
        opened = ExitStack()
        try:
            view = opened.enter_context(db.pinned())
            size = queries.log_size(view)
        except OperationalError as exc:
            opened.close()
            if db is pool.primary:
                raise
            LOGGER.warning("read replica %s passed over: %s", _where(db), exc.orig or exc)
            continue
        with opened:
            request.state.tree_size = size
            request.state.from_replica = db is not pool.primary
            yield view
        return


def _where(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=True)


ReadDbDep = Annotated[Database, Depends(get_read_db)]


def require_size(request: Request, wanted: int) -> None:
    """Raise ReplicaBehind when this request reads a replica whose tree is smaller than
    `wanted` and the primary's is not; otherwise the route answers from what it holds."""
    held: int = request.state.tree_size
    if not request.state.from_replica or wanted <= held:
        return
    primary: int = queries.log_size(request.app.state.db)
    if wanted <= primary:
        raise ReplicaBehind(
            f"this server answers from a read replica that holds the log up to size {held}; "
            f"the log has {primary} entries: ask again in a moment",
            held,
        )


def require_lot(request: Request, lot: str) -> None:
    """Raise ReplicaBehind when the replica this request reads lacks `lot` and the primary
    holds it (the lot was recorded moments ago)."""
    if request.state.from_replica and not missing_lots(request.app.state.db, [lot]):
        held: int = request.state.tree_size
        raise ReplicaBehind(
            f"lot {lot!r} was recorded after size {held}, the newest state of the read replica "
            "this server answers from: ask again in a moment",
            held,
        )


class TreeSizeHeader(ResponseHeaders):
    """Names the tree size a read was computed at in every answer of a read route
    (`Ree-Ledger-Tree-Size`), errors included."""

    def edit(self, scope: Scope, headers: MutableHeaders) -> None:
        size = scope.get("state", {}).get("tree_size")
        if size is not None:
            headers[TREE_SIZE_HEADER] = str(size)
