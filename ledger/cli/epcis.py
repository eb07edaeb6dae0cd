"""`epcis install-schema`: put GS1's EPCIS JSON Schema in the home, where capture applies it."""

import sys
from pathlib import Path

import typer

from ledger.cli.context import HomeOption, fail, one_line_errors, settings_for
from ledger.epcis.schema import SchemaUnavailable
from ledger.home import Home
from ledger.service.epcis_schema import home_schema_path, install_schema

epcis_app = typer.Typer(help="EPCIS 2.0 capture.", no_args_is_help=True)


@epcis_app.command("install-schema")
@one_line_errors
def install(
    file: Path = typer.Argument(..., help="GS1's EPCIS-JSON-Schema.json (draft-07)"),
    home: HomeOption = None,
) -> None:
    """Check that FILE is GS1's EPCIS 2.0 JSON Schema and copy it into the home.

    Capture then applies it as well as its own checks, from the next capture on (a running
    server reads the file again when it changes). A bad FILE writes nothing.
    """
    settings = settings_for(home)
    if not Home(settings.home).log_key_path.exists():
        fail(f"{settings.home} is not a ledger home: run `ree-ledger init` first")
    destination = home_schema_path(settings.home)
    try:
        install_schema(file, destination)
    except SchemaUnavailable as exc:
        fail(f"{file}: {exc}")
    print(f"installed: {destination.resolve()}")
    configured = settings.epcis_schema
    if configured is not None and configured.resolve() != destination.resolve():
        print(
            f"note: REE_LEDGER_EPCIS_SCHEMA names {configured}, which the server applies "
            "instead while it is set",
            file=sys.stderr,
        )
