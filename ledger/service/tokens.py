"""Read tokens: random bearer secrets, stored only as their SHA-256."""

import hashlib
import hmac
import secrets
from datetime import datetime

from ledger.lots.state import ParticipantState, Rejection
from ledger.store.engine import Database
from ledger.store.state import participant_from_row
from ledger.store.tables import ParticipantRow, ReadTokenRow

TOKEN_PREFIX = "rlt_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db: Database, participant_id: str, now: datetime) -> str:
    """A new read token for a registered participant; only its hash is stored."""
    with db.write_session() as session:
        if session.get(ParticipantRow, participant_id) is None:
            raise Rejection(
                404,
                "unknown_participant",
                f"participant {participant_id!r} is not registered: register it first",
                field="participant",
                value=participant_id,
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        session.add(
            ReadTokenRow(token_hash=_digest(token), participant=participant_id, created_at=now)
        )
        session.commit()
    return token


def resolve_token(db: Database, token: str) -> ParticipantState | None:
    """The participant a token belongs to, or None."""
    digest = _digest(token)
    with db.read_session() as session:
        row = session.get(ReadTokenRow, digest)
        # The lookup is by hash, so timing reveals nothing of the token; compare anyway in
        # constant time so a future change of lookup cannot open a timing channel.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        participant = session.get(ParticipantRow, row.participant)
        return participant_from_row(participant) if participant else None
