"""Liveness: the process answers, the database is reachable, and whether it accepts writes."""

from fastapi import APIRouter

from api.deps import DbDep, EpcisSchemaDep
from api.schemas import Health
from ledger.service import queries
from ledger.store.writable import accepts_writes

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(db: DbDep, epcis_schema: EpcisSchemaDep) -> Health:
    """200 while the process answers and the database reads; `status` is "degraded" and
    `database` "read_only" while the database refuses writes (writes answer 503 then)."""
    writable = accepts_writes(db)
    return Health(
        status="ok" if writable else "degraded",
        size=queries.log_info(db).size,
        database="writable" if writable else "read_only",
        epcis_schema=epcis_schema.status(),
    )
