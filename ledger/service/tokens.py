"""Read tokens: random bearer secrets, stored only as their SHA-256, with a lifetime."""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from ledger.errors import Kind
from ledger.lots.state import ParticipantState, Rejection
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.rows import participant_from_row
from ledger.store.tables import KeyRow, ParticipantRow, ReadTokenRow

TOKEN_PREFIX = "rlt_"
TOKEN_ID_LENGTH = 12
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=366)

# (valid_from, revoked_at) of each of a participant's keys, as log indices.
KeySpan = tuple[int, int | None]


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token: never the token, never its whole hash."""

    token_id: str
    participant: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    keys_held: bool  # its participant has held a live key at every entry since its issue

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "active" if self.keys_held else "keys-revoked"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(token: str) -> str:
    """A token's public id: the first 12 hex digits of its SHA-256 (what `token list` shows)."""
    return _digest(token)[:TOKEN_ID_LENGTH]


def _utc(moment: datetime) -> datetime:
    # SQLite hands back the naive UTC time it was given.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def keys_held_since(spans: Sequence[KeySpan], issued_size: int) -> bool:
    """Tell whether a live key was held now and after every key revocation at or after
    `issued_size`: a key is live after entry r when valid_from <= r < revoked_at."""
    if all(revoked is not None for _, revoked in spans):
        return False
    for _, at in spans:
        if at is None or at < issued_size:
            continue
        if not any(start <= at and (end is None or at < end) for start, end in spans):
            return False
    return True


def _unknown_participant(participant_id: str) -> Rejection:
    return Rejection(
        Kind.NOT_FOUND,
        "unknown_participant",
        f"participant {participant_id!r} is not registered: register it first",
        field="participant",
        value=participant_id,
    )


def _key_spans(session: Session, participant_id: str) -> list[KeySpan]:
    rows = session.exec(
        select(KeyRow.valid_from, KeyRow.revoked_at).where(KeyRow.participant == participant_id)
    ).all()
    return [(start, end) for start, end in rows]


def _check_expiry(expires_at: datetime, now: datetime) -> None:
    if expires_at <= now:
        raise Rejection(
            Kind.INVALID,
            "expiry_in_past",
            f"expires: {expires_at.isoformat(timespec='seconds')} is not after now "
            f"({now.isoformat(timespec='seconds')})",
            field="expires",
            value=expires_at.isoformat(),
        )
    if expires_at - now > MAX_LIFETIME:
        raise Rejection(
            Kind.INVALID,
            "lifetime_too_long",
            f"expires: a token lives at most {MAX_LIFETIME.days} days; pick an earlier expiry",
            field="expires",
            value=expires_at.isoformat(),
        )


def issue_token(
    db: Database, participant_id: str, now: datetime, expires_at: datetime | None = None
) -> str:
    """A new read token for a registered participant with a live key; only its hash is stored.

    It expires at `expires_at`, by default DEFAULT_LIFETIME after `now`.
    """
    expires_at = _utc(expires_at) if expires_at is not None else now + DEFAULT_LIFETIME
    _check_expiry(expires_at, now)
    with db.write_session() as session:
        if session.get(ParticipantRow, participant_id) is None:
            raise _unknown_participant(participant_id)
        size = logstore.current_size(session)
        if not keys_held_since(_key_spans(session, participant_id), size):
            raise Rejection(
                Kind.CONFLICT,
                "no_live_key",
                f"participant {participant_id!r} has no key that is not revoked: add one first",
                field="participant",
                value=participant_id,
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = _digest(token)
        row = ReadTokenRow(
            token_hash=digest,
            token_id=digest[:TOKEN_ID_LENGTH],
            participant=participant_id,
            created_at=now,
            expires_at=expires_at,
            issued_size=size,
        )
        session.add(row)
        session.commit()
    return token


def resolve_token(db: Database, token: str, now: datetime) -> ParticipantState | None:
    """The participant a token belongs to, or None: unknown, revoked, expired, or its
    participant's keys were all revoked since it was issued."""
    digest = _digest(token)
    with db.read_session() as session:
        row = session.get(ReadTokenRow, digest)
        # The lookup is by hash, so timing reveals nothing of the token; compare anyway in
        # constant time so a future change of lookup cannot open a timing channel.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        if row.revoked_at is not None or now >= _utc(row.expires_at):
            return None
        if not keys_held_since(_key_spans(session, row.participant), row.issued_size):
            return None
        participant = session.get(ParticipantRow, row.participant)
        return participant_from_row(participant) if participant else None


def _info(session: Session, row: ReadTokenRow) -> TokenInfo:
    return TokenInfo(
        token_id=row.token_id,
        participant=row.participant,
        created_at=_utc(row.created_at),
        expires_at=_utc(row.expires_at),
        revoked_at=_utc(row.revoked_at) if row.revoked_at is not None else None,
        keys_held=keys_held_since(_key_spans(session, row.participant), row.issued_size),
    )


def list_tokens(db: Database, participant_id: str | None = None) -> list[TokenInfo]:
    """Every token (or one participant's), oldest first."""
    with db.read_session() as session:
        query = select(ReadTokenRow).order_by(
            col(ReadTokenRow.created_at), col(ReadTokenRow.token_id)
        )
        if participant_id is not None:
            if session.get(ParticipantRow, participant_id) is None:
                raise _unknown_participant(participant_id)
            query = query.where(ReadTokenRow.participant == participant_id)
        return [_info(session, row) for row in session.exec(query).all()]


def revoke_token(db: Database, which: str, now: datetime) -> TokenInfo:
    """Revoke a token named by its id (or by the token itself); it stops working at once."""
    wanted = token_id(which) if which.startswith(TOKEN_PREFIX) else which
    with db.write_session() as session:
        row = session.exec(select(ReadTokenRow).where(ReadTokenRow.token_id == wanted)).first()
        if row is None:
            raise Rejection(
                Kind.NOT_FOUND,
                "unknown_token_id",
                f"no read token has the id {wanted!r}: `ree-ledger token list` shows the ids",
                field="token",
                value=wanted,
            )
        if row.revoked_at is not None:
            raise Rejection(
                Kind.CONFLICT,
                "token_already_revoked",
                f"read token {wanted} was already revoked at "
                f"{_utc(row.revoked_at).isoformat(timespec='seconds')}",
                field="token",
                value=wanted,
            )
        row.revoked_at = now
        session.add(row)
        session.commit()
        return _info(session, row)
