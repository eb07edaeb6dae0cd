"""Liveness: the process answers and the database is reachable."""

from fastapi import APIRouter

from api.deps import DbDep
from api.schemas import Health
from ledger.service import queries

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(db: DbDep) -> Health:
    return Health(status="ok", size=queries.log_info(db).size)
