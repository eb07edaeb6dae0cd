"""Seeded, realistic rare-earth supply chains with injected frauds, for the demo and tests."""

from ledger.demo.generator import generate, span
from ledger.demo.model import (
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
