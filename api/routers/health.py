"""Liveness: the process answers, the database is reachable, and whether it accepts writes."""

from fastapi import APIRouter, Request
from sqlalchemy.exc import OperationalError

from api.deps import DbDep, EpcisSchemaDep
from api.schemas import Health, ReplicaHealth
from ledger.service import queries
from ledger.store.engine import Database
from ledger.store.replicas import ReadPool
from ledger.store.writable import accepts_writes

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request, db: DbDep, epcis_schema: EpcisSchemaDep) -> Health:
    """200 while the process answers and the database reads; `status` is "degraded" and
    `database` "read_only" while the database refuses writes (writes answer 503 then).
    `replicas`: each read replica's size and how far it is behind (null: unreachable)."""
    writable = accepts_writes(db)
    size = queries.log_info(db).size
    pool: ReadPool = request.app.state.reads
    return Health(
        status="ok" if writable else "degraded",
        size=size,
        database="writable" if writable else "read_only",
        epcis_schema=epcis_schema.status(),
        replicas=[_replica(replica, size) for replica in pool.replicas],
    )


def _replica(replica: Database, primary_size: int) -> ReplicaHealth:
    try:
        # Pinned, as every read of a replica: its connections are read-only ones.
        with replica.pinned() as view:
            size = queries.log_size(view)
    except OperationalError:
        return ReplicaHealth(size=None, behind=None)
    return ReplicaHealth(size=size, behind=max(primary_size - size, 0))
