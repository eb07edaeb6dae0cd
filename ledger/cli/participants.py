"""`participant add|key-add|key-revoke`: registry entries signed by the operator."""

from datetime import UTC, datetime
from pathlib import Path

import typer

from ledger.cli.context import HomeOption, one_line_errors, settings_for
from ledger.cli.keys import read_public_key
from ledger.home import Home
from ledger.service import registry
from ledger.service.ingest import Accepted
from ledger.store.engine import Database
from ledger.tlog import keys

participant_app = typer.Typer(help="Register participants and manage their keys (operator).")


def _post(home: Path | None, event_for: "registry.EventFactory") -> Accepted:
    settings = settings_for(home)
    operator = Home(settings.home)
    db = Database(settings.database_url)
    try:
        now = datetime.now(UTC)
        return registry.post_registry_event(
            db, operator.identity(settings.origin), operator.operator_key(), event_for(now), now
        )
    finally:
        db.dispose()


@participant_app.command("add")
@one_line_errors
def add(
    participant: str = typer.Argument(..., metavar="ID"),
    name: str = typer.Option(..., "--name"),
    country: str = typer.Option(..., "--country", help="ISO 3166 alpha-2"),
    role: list[str] = typer.Option(..., "--role", help="repeat for several roles"),
    public_key: Path = typer.Option(
        ...,
        "--public-key",
        help="Ed25519 public key: `keygen` .pub, SPKI PEM (`openssl pkey -pubout`) or ssh-ed25519",
    ),
    home: HomeOption = None,
) -> None:
    """Register a participant with one key, signed by the operator."""
    raw = read_public_key(public_key)
    accepted = _post(
        home, lambda now: registry.register_event(participant, name, country, role, [raw], now)
    )
    print(
        f"registered {participant} at index {accepted.index}; keyid {keys.key_id(participant, raw)}"
    )


@participant_app.command("key-add")
@one_line_errors
def key_add(
    participant: str = typer.Argument(..., metavar="ID"),
    public_key: Path = typer.Option(..., "--public-key", help="as for `participant add`"),
    home: HomeOption = None,
) -> None:
    """Add a key; it is valid for entries after this one."""
    raw = read_public_key(public_key)
    accepted = _post(home, lambda now: registry.key_add_event(participant, raw, now))
    print(f"added key {keys.key_id(participant, raw)} at index {accepted.index}")


@participant_app.command("key-revoke")
@one_line_errors
def key_revoke(
    participant: str = typer.Argument(..., metavar="ID"),
    keyid: str = typer.Argument(..., metavar="KEYID"),
    home: HomeOption = None,
) -> None:
    """Revoke a key; entries after this one signed with it are refused."""
    accepted = _post(home, lambda now: registry.key_revoke_event(participant, keyid, now))
    print(f"revoked {keyid} at index {accepted.index}")
