"""Turn a generated scenario into signed envelopes, in posting order (demo and benchmarks)."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.demo import Scenario, ScenarioStep
from ledger.service import registry
from ledger.tlog import keys
from ledger.tlog.encoding import canonical
from ledger.tlog.envelope import sign_envelope

BATCH = 200


def participant_key(seed: int, participant: str) -> Ed25519PrivateKey:
    """A deterministic key per participant, so a scenario signs the same way every run."""
    digest = hashlib.sha256(f"ree-ledger scenario {seed} {participant}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(digest)


def signers(scenario: Scenario) -> dict[str, Ed25519PrivateKey]:
    return {p.id: participant_key(scenario.seed, p.id) for p in scenario.participants}


def registrations(
    scenario: Scenario, operator_key: Ed25519PrivateKey, now: datetime
) -> list[dict[str, Any]]:
    """Operator-signed registry envelopes for every participant of the scenario."""
    keyring = signers(scenario)
    return [
        registry.operator_envelope(
            registry.register_event(
                p.id, p.name, p.country, p.roles, [keys.raw_public_key(keyring[p.id])], now
            ),
            operator_key,
        )
        for p in scenario.participants
    ]


@dataclass(frozen=True)
class Batch:
    """Steps to post together; a step meant to be refused travels alone (`refused`)."""

    steps: tuple[ScenarioStep, ...]
    envelopes: tuple[dict[str, Any], ...]
    refused: bool


def batches(scenario: Scenario, size: int = BATCH) -> Iterator[Batch]:
    """The scenario's steps as signed batches, in order."""
    keyring = signers(scenario)
    pending: list[ScenarioStep] = []

    def flush() -> Iterator[Batch]:
        if pending:
            yield _batch(pending, keyring, refused=False)
            pending.clear()

    for step in scenario.steps:
        if step.expect != "accept":
            yield from flush()
            yield _batch([step], keyring, refused=True)
            continue
        pending.append(step)
        if len(pending) == size:
            yield from flush()
    yield from flush()


def _batch(
    steps: list[ScenarioStep], keyring: dict[str, Ed25519PrivateKey], refused: bool
) -> Batch:
    envelopes = []
    for step in steps:
        key = keyring[step.actor]
        keyid = keys.key_id(step.actor, keys.raw_public_key(key))
        envelopes.append(sign_envelope(canonical(step.event), key, keyid).to_json())
    return Batch(tuple(steps), tuple(envelopes), refused)
