"""`init`, `serve` and `demo`: make a ledger home and run the API on it."""

import os
from pathlib import Path

import typer
import uvicorn

from ledger.cli.context import HomeOption, one_line_errors, settings_for
from ledger.cli.demo_witnesses import demo_witnesses
from ledger.config import Settings
from ledger.home import Home, bind_identity, init_home
from ledger.store.engine import Database
from ledger.store.migrate import upgrade


@one_line_errors
def init(home: HomeOption = None) -> None:
    """Create the home: database, log key, operator key; print the log verifier key."""
    settings = settings_for(home)
    identity = init_home(settings.home, settings.database_url, settings.origin)
    print(f"home:          {settings.home.resolve()}")
    print(f"database:      {settings.database_url}")
    print(f"log key:       {identity.log_vkey}")
    print(f"operator key:  {identity.operator_key_b64}")


def _export_environment(home: Path | None) -> None:
    # uvicorn workers build the app from the environment (create_app reads Settings()).
    if home is not None:
        os.environ["REE_LEDGER_HOME"] = str(home.resolve())


@one_line_errors
def serve(
    home: HomeOption = None,
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, min=1, help="API processes sharing the database"),
) -> None:
    """Run the API; migrates the database to head first."""
    settings = settings_for(home)
    _check_home(settings)
    _export_environment(home)
    uvicorn.run(
        "api.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


def _check_home(settings: Settings) -> None:
    """Fail here, with one line, rather than inside every worker: keys present, schema at head."""
    identity = Home(settings.home).identity(settings.origin)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        bind_identity(db, identity)
    finally:
        db.dispose()


@one_line_errors
def demo(
    home: HomeOption = None,
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
) -> None:
    """Init a home, seed a small supply chain, print what to open, and serve it, with two
    witnesses beside it (on the next two ports) that cosign its checkpoints."""
    from ledger.service.seed import seed_demo

    settings = settings_for(home)
    identity = init_home(settings.home, settings.database_url, settings.origin)
    report = seed_demo(settings.home, settings.database_url, settings.origin)
    base = f"http://{host}:{port}"
    print(report.summary(base))
    _check_home(settings)
    _export_environment(settings.home)
    ports = (port + 1, port + 2)
    with demo_witnesses(
        settings.home, settings.database_url, identity.log_vkey, host, ports
    ) as started:
        for witness in started:
            print(f"  witness:       {witness.name} at {witness.url}")
        print(
            f"  the checkpoint at {base}/v1/checkpoint carries both witnesses' cosignatures "
            "a second after the server starts; the lot pages name them"
        )
        uvicorn.run(
            "api.app:create_served_app", factory=True, host=host, port=port, log_level="info"
        )


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(serve)
    app.command()(demo)
