"""Test support: participants that sign events, and a chain that tracks lot heads."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog import keys
from ledger.tlog.encoding import b64encode, canonical
from ledger.tlog.envelope import sign_envelope

_ids = itertools.count(1)

ORE = {"La": 17000, "Ce": 29000, "Pr": 2800, "Nd": 9500, "Fe": 120000}
CONCENTRATE = {"La": 120000, "Ce": 210000, "Pr": 20000, "Nd": 68000, "Fe": 30000}
MAGNET = {"Nd": 232000, "Pr": 77000, "Dy": 9000, "Fe": 660000, "B": 10000}


@dataclass
class Party:
    """A participant (or the operator) holding a signing key."""

    id: str
    key: Ed25519PrivateKey = field(default_factory=keys.generate_private_key)

    @property
    def public_key(self) -> bytes:
        return keys.raw_public_key(self.key)

    @property
    def keyid(self) -> str:
        return keys.key_id(self.id, self.public_key)

    def envelope(self, event: dict[str, Any], keyid: str | None = None) -> dict[str, Any]:
        return sign_envelope(canonical(event), self.key, keyid or self.keyid).to_json()


def event(
    actor: str, event_type: str, prev: dict[str, str] | None = None, **fields: Any
) -> dict[str, Any]:
    return {
        "type": event_type,
        "id": f"ev-{next(_ids)}",
        "actor": actor,
        "time": "2026-03-01T08:00:00Z",
        "prev": prev or {},
        **fields,
    }


def register(
    operator: Party, party: Party, roles: list[str], country: str = "CN"
) -> dict[str, Any]:
    return event(
        "operator",
        "participant.register",
        participant={
            "id": party.id,
            "name": party.id.replace("-", " ").title(),
            "country": country,
            "roles": roles,
            "keys": [{"keyid": party.keyid, "public_key": b64encode(party.public_key)}],
        },
    )


def extract(mine: Party, lot: str, mass_g: int = 1_000_000, country: str = "CN") -> dict[str, Any]:
    return event(
        mine.id,
        "lot.extract",
        lot={"id": lot, "product": "ore", "mass_g": mass_g, "composition_ppm": ORE},
        site={"id": "pit-1", "name": "Pit One", "country": country},
        deposit="bastnaesite",
    )


def transform(
    actor: Party,
    heads: dict[str, str],
    inputs: list[tuple[str, int]],
    outputs: list[tuple[str, str, int]],
    process: str = "beneficiation",
) -> dict[str, Any]:
    return event(
        actor.id,
        "lot.transform",
        prev={lot: heads[lot] for lot, _ in inputs},
        process=process,
        inputs=[{"lot": lot, "mass_g": mass} for lot, mass in inputs],
        outputs=[
            {"id": lot, "product": product, "mass_g": mass, "composition_ppm": CONCENTRATE}
            for lot, product, mass in outputs
        ],
    )


def ship(
    actor: Party, heads: dict[str, str], to: str, lots: list[tuple[str, int]]
) -> dict[str, Any]:
    return event(
        actor.id,
        "lot.ship",
        prev={lot: heads[lot] for lot, _ in lots},
        to=to,
        lots=[{"lot": lot, "mass_g": mass} for lot, mass in lots],
    )


def receive(
    actor: Party, heads: dict[str, str], sender: str, lots: list[tuple[str, int]]
) -> dict[str, Any]:
    return event(
        actor.id,
        "lot.receive",
        prev={lot: heads[lot] for lot, _ in lots},
        lots=[{"lot": lot, "mass_g": mass} for lot, mass in lots],
        **{"from": sender},
    )


def declare(
    actor: Party, heads: dict[str, str], declaration_id: str, lots: list[str], mass_g: int
) -> dict[str, Any]:
    return event(
        actor.id,
        "export.declare",
        prev={lot: heads[lot] for lot in lots},
        declaration={
            "id": declaration_id,
            "lots": lots,
            "hs_code": "850511",
            "description": "Sintered NdFeB magnets",
            "declared_mass_g": mass_g,
            "destination": "DE",
            "licence": "LIC-1",
        },
    )


def decide(
    actor: Party, heads: dict[str, str], declaration_id: str, lots: list[str], decision: str
) -> dict[str, Any]:
    return event(
        actor.id,
        "customs.decide",
        prev={lot: heads[lot] for lot in lots},
        declaration=declaration_id,
        decision=decision,
    )


def licence_issue(
    authority: Party,
    licence_id: str,
    holder: str,
    elements: list[str],
    max_mass_g: int,
    **limits: Any,
) -> dict[str, Any]:
    """An export licence for 2026 (DESIGN §9.1), to any destination and under any HS code
    unless `limits` names `destination` or `hs_codes`."""
    return event(
        authority.id,
        "licence.issue",
        licence={
            "id": licence_id,
            "holder": holder,
            "elements": elements,
            "max_mass_g": max_mass_g,
            "valid_from": "2026-01-01T00:00:00Z",
            "valid_until": "2026-12-31T23:59:59Z",
            **limits,
        },
    )


def quota_issue(
    authority: Party, quota_id: str, mine: str, reo_mass_g: int, **deposit: str
) -> dict[str, Any]:
    """A mining quota for 2026, for any deposit unless `deposit` names one (DESIGN §9.1)."""
    quota = {"id": quota_id, "holder": mine, "year": 2026, "reo_mass_g": reo_mass_g, **deposit}
    return event(authority.id, "quota.issue", quota=quota)
