"""Registry entries signed by the operator: participants and their keys."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.service.ingest import Accepted, ingest
from ledger.store.engine import Database
from ledger.store.identity import OPERATOR, LogIdentity
from ledger.tlog import keys
from ledger.tlog.encoding import b64encode, canonical
from ledger.tlog.envelope import sign_envelope

EventFactory = Callable[[datetime], dict[str, Any]]


def rfc3339(moment: datetime) -> str:
    """The ledger's time form: UTC, seconds, ending in Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def operator_envelope(event: dict[str, Any], operator_key: Ed25519PrivateKey) -> dict[str, Any]:
    keyid = keys.key_id(OPERATOR, keys.raw_public_key(operator_key))
    return sign_envelope(canonical(event), operator_key, keyid).to_json()


def key_entry(participant: str, public_key: bytes) -> dict[str, str]:
    return {"keyid": keys.key_id(participant, public_key), "public_key": b64encode(public_key)}


def register_event(
    participant: str,
    name: str,
    country: str,
    roles: Sequence[str],
    public_keys: Sequence[bytes],
    now: datetime,
) -> dict[str, Any]:
    return {
        "type": "participant.register",
        "id": f"register:{participant}",
        "actor": OPERATOR,
        "time": rfc3339(now),
        "prev": {},
        "participant": {
            "id": participant,
            "name": name,
            "country": country,
            "roles": list(roles),
            "keys": [key_entry(participant, key) for key in public_keys],
        },
    }


def key_add_event(participant: str, public_key: bytes, now: datetime) -> dict[str, Any]:
    key = key_entry(participant, public_key)
    return {
        "type": "participant.key_add",
        "id": f"key_add:{key['keyid']}",
        "actor": OPERATOR,
        "time": rfc3339(now),
        "prev": {},
        "participant": participant,
        "key": key,
    }


def key_revoke_event(participant: str, keyid: str, now: datetime) -> dict[str, Any]:
    return {
        "type": "participant.key_revoke",
        "id": f"key_revoke:{keyid}",
        "actor": OPERATOR,
        "time": rfc3339(now),
        "prev": {},
        "participant": participant,
        "keyid": keyid,
    }


def post_registry_event(
    db: Database,
    identity: LogIdentity,
    operator_key: Ed25519PrivateKey,
    event: dict[str, Any],
    now: datetime,
) -> Accepted:
    [accepted] = ingest(db, identity, [operator_envelope(event, operator_key)], now)
    return accepted
