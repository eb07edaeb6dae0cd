"""The coupling keys of an event name everything its replay reads and writes beyond the
registry: workloads (the demo's chains and frauds, the adversary's campaigns with licences
and quotas, registry events, a seizure giving a licence its grams back, a revocation) are
replayed through a reader that records every read, and each read and each record written is
held to the event's keys, joined with those of the events before it (a decision reads the
licence its declaration named); a registry event (GLOBAL) reads and writes the registry
only."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.demo.adversary import play
from ledger.demo.generator import generate
from ledger.lots.coupling import (
    DECLARATION,
    GLOBAL,
    LICENCE,
    LOT,
    QUOTA,
    coupling_keys,
    quota_year,
)
from ledger.lots.events import parse_event
from ledger.lots.memory import MemoryState
from ledger.lots.records import (
    DeclarationState,
    Effects,
    KeyState,
    LicenceState,
    LotState,
    ParticipantState,
    QuotaState,
    StateReader,
)
from ledger.lots.rules import check_event
from ledger.lots.state import Rejection, apply_event
from ledger.lots.tolerances import Tolerances
from ledger.tlog.encoding import b64encode, canonical, sha256
from tests.support import (
    Party,
    decide,
    declare,
    event,
    extract,
    licence_issue,
    quota_issue,
    register,
)

START = datetime(2025, 3, 1, tzinfo=UTC)
REGISTRY = "registry"  # a read of the registry, which every part replays
EVENT_IDS = "event ids"  # a read of event_index, checked across the log apart


class Recording(StateReader):
    """A StateReader over `state` that names each read by its coupling key."""

    def __init__(self, state: MemoryState) -> None:
        self.state = state
        self.reads: set[str] = set()

    def lot(self, lot_id: str) -> LotState | None:
        self.reads.add(LOT + lot_id)
        return self.state.lot(lot_id)

    def participant(self, participant_id: str) -> ParticipantState | None:
        self.reads.add(REGISTRY)
        return self.state.participant(participant_id)

    def key(self, keyid: str) -> KeyState | None:
        self.reads.add(REGISTRY)
        return self.state.key(keyid)

    def declaration(self, declaration_id: str) -> DeclarationState | None:
        self.reads.add(DECLARATION + declaration_id)
        return self.state.declaration(declaration_id)

    def licence(self, licence_id: str) -> LicenceState | None:
        self.reads.add(LICENCE + licence_id)
        return self.state.licence(licence_id)

    def quota(self, quota_id: str) -> QuotaState | None:
        self.reads.add(QUOTA + quota_id)
        return self.state.quota(quota_id)

    def quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        self.reads.add(quota_year(holder, year))
        return self.state.quotas(holder, year)

    def open_quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        self.reads.add(quota_year(holder, year))
        return self.state.open_quotas(holder, year)

    def last_quota(self, holder: str, year: int, deposit: str | None) -> QuotaState | None:
        self.reads.add(quota_year(holder, year))
        return self.state.last_quota(holder, year, deposit)

    def event_index(self, event_id: str) -> int | None:
        self.reads.add(EVENT_IDS)
        return self.state.event_index(event_id)


class Components:
    """The keys of the events so far, joined where an event names several (what the audit
    deals to its parts is the final components: these or their unions)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def root(self, key: str) -> str:
        while self.parent.setdefault(key, key) != key:
            key = self.parent[key]
        return key

    def join(self, keys: tuple[str, ...]) -> None:
        for key in keys[1:]:
            self.parent[self.root(key)] = self.root(keys[0])

    def joins(self, one: str, other: str) -> bool:
        return self.root(one) == self.root(other)


def _written(effects: Effects) -> set[str]:
    """The keys of the records `effects` writes (the registry's as REGISTRY)."""
    written = {LOT + lot.id for lot in effects.lots}
    written |= {LOT + edge.parent for edge in effects.edges}
    written |= {LOT + edge.child for edge in effects.edges}
    written |= {DECLARATION + declaration.id for declaration in effects.declarations}
    written |= {LICENCE + licence.id for licence in effects.licences}
    # A quota by its holder's year: its issue joined its id to that (and reads the id).
    written |= {quota_year(quota.holder, quota.year) for quota in effects.quotas}
    if effects.participants or effects.keys:
        written.add(REGISTRY)
    return written


def _replay(events: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Replay `events` as the ledger takes them (the refused ones left out), holding what
    each accepted one reads and writes to its keys; the events replayed, by type."""
    state = MemoryState()
    reader = Recording(state)
    tolerances = Tolerances()
    joined = Components()
    replayed: dict[str, int] = {}
    for index, fields in enumerate(events):
        payload = canonical(fields)
        parsed = parse_event(payload)
        reader.reads = set()
        try:
            effects = apply_event(parsed, sha256(payload).hex(), index, reader, None)
        except Rejection:
            continue  # refused (some frauds are): not in the log, never replayed
        check_event(parsed, reader, tolerances, derived=effects)
        keys = coupling_keys(parsed)
        written = _written(effects)
        if keys is GLOBAL:
            assert reader.reads <= {REGISTRY, EVENT_IDS}, (parsed.id, reader.reads)
            assert written <= {REGISTRY}, (parsed.type, parsed.id, written)
        else:
            joined.join(keys)
            apart = {key for key in reader.reads | written if not joined.joins(keys[0], key)}
            assert apart <= {REGISTRY, EVENT_IDS}, (parsed.type, parsed.id, apart)
        state.apply(effects, parsed.id, index)
        replayed[parsed.type] = replayed.get(parsed.type, 0) + 1
    return replayed


def _registrations(participants: Iterable[Any]) -> list[dict[str, Any]]:
    """A participant.register for each of the scenario's participants."""
    registered = []
    for participant in participants:
        party = Party(participant.id)
        key = {"keyid": party.keyid, "public_key": b64encode(party.public_key)}
        record = {
            "id": participant.id,
            "name": participant.name,
            "country": participant.country,
            "roles": list(participant.roles),
            "keys": [key],
        }
        registered.append(event("operator", "participant.register", participant=record))
    return registered


def test_every_state_reader_method_is_named_by_the_recording_reader() -> None:
    """A method added to StateReader must be given its key here (and in coupling_keys)."""
    methods = {name for name in vars(StateReader) if not name.startswith("_")}
    assert methods == {name for name in vars(Recording) if not name.startswith("_")}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_demo_chains_and_frauds_read_and_write_only_their_keys(seed: int) -> None:
    scenario = generate(seed, chains=24, fraud_rate=1.0, start=START)
    steps = [step.event for step in scenario.steps]
    replayed = _replay([*_registrations(scenario.participants), *steps])
    assert {"lot.extract", "lot.transform", "lot.ship", "export.declare"} <= replayed.keys()


def test_the_adversary_reads_and_writes_only_its_keys() -> None:
    adversary = play(3, instances=2, start=START)
    scenario = adversary.scenario
    steps = [step.event for step in scenario.steps]
    replayed = _replay([*_registrations(scenario.participants), *steps])
    assert {"licence.issue", "quota.issue", "customs.decide"} <= replayed.keys()


def test_registry_events_a_seizure_and_a_revocation_read_and_write_only_their_keys() -> None:
    operator = Party("operator")
    mine, customs, authority = Party("mine-k"), Party("customs-k"), Party("authority-k")
    second = Party("mine-k")
    extracted = extract(mine, "ORE-K")
    head = {"ORE-K": sha256(canonical(extracted)).hex()}
    declared = declare(mine, head, "DEC-K", ["ORE-K"], 1_000_000)
    head = {"ORE-K": sha256(canonical(declared)).hex()}
    key = {"keyid": second.keyid, "public_key": b64encode(second.public_key)}
    replayed = _replay(
        [
            register(operator, mine, ["mine", "exporter"]),
            register(operator, customs, ["customs"]),
            register(operator, authority, ["authority"]),
            event("operator", "participant.key_add", participant=mine.id, key=key),
            event("operator", "participant.key_revoke", participant=mine.id, keyid=second.keyid),
            licence_issue(authority, "LIC-1", mine.id, ["Nd"], 10_000_000),
            quota_issue(authority, "Q-K", mine.id, 500_000_000),
            extracted,
            declared,
            decide(customs, head, "DEC-K", ["ORE-K"], "seize"),
            event(authority.id, "licence.revoke", licence="LIC-1", reason="Seized goods"),
        ]
    )
    assert replayed["participant.key_revoke"] == 1 and replayed["licence.revoke"] == 1
