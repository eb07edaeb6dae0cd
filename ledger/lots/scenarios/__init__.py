"""Seeded, realistic rare-earth supply chains with injected frauds, for the demo and tests."""

from ledger.lots.scenarios.generator import generate, span
from ledger.lots.scenarios.model import (
    PATTERNS,
    Injection,
    Scenario,
    ScenarioParticipant,
    ScenarioStep,
)

__all__ = [
    "PATTERNS",
    "Injection",
    "Scenario",
    "ScenarioParticipant",
    "ScenarioStep",
    "generate",
    "span",
]
