"""The FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.limits import BodySizeLimit
from api.reads import TreeSizeHeader
from api.routers import bundle, entries, epcis, flags, health, log, lots, pages, qr, signin
from api.security_headers import SecurityHeaders
from ledger.config import Settings
from ledger.home import Home, bind_identity, check_replica
from ledger.lots.tolerances import Tolerances
from ledger.runtime import settle_collector
from ledger.service import submitter
from ledger.service.epcis_schema import InstalledSchema
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.store.replicas import ReadPool


def create_app(settings: Settings | None = None, identity: LogIdentity | None = None) -> FastAPI:
    """Build the app: settings, identity (from the home's key files), the database engine
    and those of the read replicas (each checked to hold this log)."""
    settings = settings or Settings()
    identity = identity or Home(settings.home).identity(settings.origin)
    db = Database(settings.database_url)
    bind_identity(db, identity)
    reads = ReadPool(db, settings.read_database_urls())
    for replica in reads.replicas:
        check_replica(replica, identity)
    app = FastAPI(
        title="ree-ledger",
        version="1",
        description="A verifiable, hash-chained traceability ledger for rare-earth material.",
        # Swagger UI and ReDoc load their scripts from a CDN, which the Content-Security-Policy
        # forbids (api/security_headers.py): the OpenAPI document is served, not those pages.
        docs_url=None,
        redoc_url=None,
        lifespan=_witness_submitter,
    )
    app.state.settings = settings
    app.state.identity = identity
    app.state.db = db
    app.state.reads = reads
    app.state.tolerances = Tolerances()
    app.state.policy = settings.custody_policy()
    app.state.epcis_schema = InstalledSchema.of(settings.home, settings.epcis_schema)
    errors.install(app)
    for router in (
        entries.router,
        log.router,
        lots.router,
        bundle.router,
        flags.router,
        health.router,
        qr.router,
        pages.router,
        signin.router,
        epcis.router,
    ):
        app.include_router(router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TreeSizeHeader)
    return app


@asynccontextmanager
async def _witness_submitter(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves, a thread submits new checkpoints to the log's witnesses
    (ledger/service/submitter.py); writes never wait for it."""
    interval: float = app.state.settings.witness_interval
    halt = submitter.start(app.state.db, interval) if interval > 0 else None
    try:
        yield
    finally:
        if halt is not None:
            halt()
        app.state.reads.dispose()


def create_served_app() -> FastAPI:
    """`create_app()` for `ree-ledger serve`, with the collector settled (ledger.runtime)."""
    app = create_app()
    settle_collector()
    return app
