"""`token issue|list|revoke`: read tokens, their lifetimes and their revocation (operator)."""

import re
import sys
from datetime import UTC, datetime, timedelta

import typer

from ledger.cli.context import HomeOption, one_line_errors, settings_for
from ledger.service import tokens
from ledger.store.engine import Database

token_app = typer.Typer(help="Read tokens: issue, list, revoke.")

_DURATION = re.compile(r"([1-9][0-9]{0,3})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def expiry(text: str, now: datetime) -> datetime:
    """`--expires`: a duration from now (`30m`, `12h`, `90d`, `2w`) or an RFC 3339 time with
    its offset (`2027-03-01T00:00:00Z`)."""
    match = _DURATION.fullmatch(text)
    if match:
        return now + timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"--expires {text!r}: give a duration like 90d, 12h, 30m, 2w or an RFC 3339 time "
            "with its offset like 2027-03-01T00:00:00Z"
        )
    return moment.astimezone(UTC)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@token_app.command("issue")
@one_line_errors
def issue(
    participant: str = typer.Argument(..., metavar="PARTICIPANT"),
    expires: str = typer.Option(
        None,
        "--expires",
        help=f"duration (90d, 12h, 30m, 2w) or RFC 3339 time; default "
        f"{tokens.DEFAULT_LIFETIME.days}d, at most {tokens.MAX_LIFETIME.days}d",
    ),
    home: HomeOption = None,
) -> None:
    """Print a new read token for PARTICIPANT (only its hash is stored); its id on stderr."""
    now = datetime.now(UTC)
    expires_at = expiry(expires, now) if expires is not None else None
    db = Database(settings_for(home).database_url)
    try:
        token = tokens.issue_token(db, participant, now, expires_at)
    finally:
        db.dispose()
    print(token)
    until = _when(expires_at or now + tokens.DEFAULT_LIFETIME)
    print(f"token id {tokens.token_id(token)} for {participant}, expires {until}", file=sys.stderr)


@token_app.command("list")
@one_line_errors
def list_(
    participant: str = typer.Argument(None, metavar="[PARTICIPANT]"),
    home: HomeOption = None,
) -> None:
    """List tokens (all, or PARTICIPANT's): id, participant, times, status; never the token."""
    db = Database(settings_for(home).database_url)
    try:
        found = tokens.list_tokens(db, participant)
    finally:
        db.dispose()
    now = datetime.now(UTC)
    print(f"{'ID':12}  {'PARTICIPANT':24}  {'CREATED':20}  {'EXPIRES':20}  {'REVOKED':20}  STATUS")
    for info in found:
        print(
            f"{info.token_id:12}  {info.participant:24}  {_when(info.created_at):20}  "
            f"{_when(info.expires_at):20}  {_when(info.revoked_at):20}  {info.status(now)}"
        )


@token_app.command("revoke")
@one_line_errors
def revoke(
    token_id: str = typer.Argument(..., metavar="TOKEN-ID", help="id from `token list`"),
    home: HomeOption = None,
) -> None:
    """Revoke a token: it gets 401 from the next request on."""
    db = Database(settings_for(home).database_url)
    try:
        info = tokens.revoke_token(db, token_id, datetime.now(UTC))
    finally:
        db.dispose()
    print(f"revoked token {info.token_id} of {info.participant} at {_when(info.revoked_at)}")
