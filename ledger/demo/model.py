"""The scenario a generator hands out: participants, signed-ready steps, injected frauds."""

from dataclasses import dataclass
from typing import Any

ACCEPT = "accept"
REJECT = "reject"
# The code an injection carries when the state machine must refuse the event outright.
REJECTED = "REJECTED"

# DOMAIN §5's ten fraud patterns, then those that cover the flag codes §5 does not name.
PATTERNS = (
    "mislabel",
    "hidden_controlled",
    "magnet_swap",
    "phantom_production",
    "diversion",
    "double_use",
    "wrong_origin",
    "substitution_in_transit",
    "declared_mass",
    "time_travel",
    "mix_inconsistent",
    "ship_mass",
    "lineage_ratchet",
    "relabel",
    "licence_misuse",
    "quota_evasion",
)


@dataclass(frozen=True)
class ScenarioParticipant:
    id: str
    name: str
    country: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ScenarioStep:
    """One event for `actor` to sign, and whether the ledger must accept or reject it."""

    actor: str
    event: dict[str, Any]  # the complete event object, ready for RFC 8785 and signing
    expect: str  # "accept" or "reject"


@dataclass(frozen=True)
class Injection:
    """A fraud planted in one chain: the event that carries it and what must catch it."""

    pattern: str  # one of PATTERNS
    code: str  # the flag code it must raise (DESIGN §5), or REJECTED
    event_id: str  # the event that carries the fraud
    lot: str  # the lot the flag should name
    note: str  # what was done, with the numbers


@dataclass(frozen=True)
class Scenario:
    seed: int
    participants: tuple[ScenarioParticipant, ...]
    steps: tuple[ScenarioStep, ...]  # in log order
    injections: tuple[Injection, ...]
    clean_lots: frozenset[str]  # the lots of chains that received no injection
    all_lots: frozenset[str]
