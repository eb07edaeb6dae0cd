"""The performance workload: generated scenarios, re-identified per slice, pre-signed in batches.

The scenario generator makes one slice of the log (`CHAINS` chains, ids like `ore-00012-3`); a
large log is many slices with distinct seeds. So that slices never collide, every id a slice
names (events, lots, declarations) gets the prefix `<run>.<slice>.`, and the `prev` heads are
recomputed from the rewritten events. All slices are signed with one keyring (the first
seed's), so the participants are registered once. Events the generator meant to be refused
are left out: the workload measures what the ledger accepts.

Besides the slices there is one `deep` lot: twelve ore lots of one mine, each assayed seven
times, blended into one stockpile that is assayed three times, 100 entries of ancestry, for
the read latencies. Batches are written to a file, one line each (`stream count body`), so a
million pre-signed envelopes never sit in memory.
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.demo import generate, span
from ledger.demo.cast import NAME
from ledger.service import scenario_run
from ledger.tlog import keys
from ledger.tlog.encoding import canonical, sha256
from ledger.tlog.envelope import sign_envelope

BASE_SEED = 1000
CHAINS = 200  # one slice: ~3,700 entries
FRAUD_RATE = 0.12
BATCH_ENVELOPES = 500
BATCH_BYTES = 900_000  # under the server's 1 MiB body limit
SETUP = "setup"  # the stream posted first, alone: registrations and the deep lot
DEEP_ORES, DEEP_ORE_ASSAYS, DEEP_PILE_ASSAYS = 12, 7, 3
DEEP_MINE, DEEP_LAB = "bayan-obo-mine", "ningbo-assay-lab"


@dataclass(frozen=True)
class Workload:
    path: Path  # one batch per line: `<stream> <entries> <JSON body>`
    entries: int
    batches: int
    deep_lot: str
    run: str

    def batches_of(self, stream: str | None = None) -> Iterator[tuple[str, int, bytes]]:
        """(stream, entries, body) of every batch in posting order, of one stream if given."""
        with self.path.open("rb") as lines:
            for line in lines:
                name, count, body = line.rstrip(b"\n").split(b" ", 2)
                if stream is None or name.decode() == stream:
                    yield name.decode(), int(count), body

    def streams(self) -> list[str]:
        names = {name for name, _, _ in self.batches_of()}
        return sorted(names - {SETUP})


def build(path: Path, entries: int, operator_key: Ed25519PrivateKey, jobs: int) -> Workload:
    """Write a workload of exactly `entries` entries (at least the setup) to `path`."""
    run = secrets.token_hex(2)
    now = datetime.now(UTC)
    start = now - span(CHAINS) - timedelta(days=1)
    first = generate(BASE_SEED, chains=CHAINS, fraud_rate=FRAUD_RATE, start=start)
    keyring = scenario_run.signers(first)
    setup = scenario_run.registrations(first, operator_key, now)
    deep_events, deep_lot = _deep_lot(first.steps, f"{run}.deep.", start)
    setup += [_sign(keyring, actor, event) for actor, event in deep_events]
    setup = setup[:entries]
    remaining = entries - len(setup)
    lines = [_line(SETUP, chunk) for chunk in _chunks(setup)]
    batches = len(lines)
    with path.open("wb") as out:
        out.writelines(lines)
        slices = _slice_jobs(run, start, remaining)
        with multiprocessing.get_context("spawn").Pool(max(1, jobs)) as pool:
            for slice_lines in pool.imap(_slice, slices):
                out.writelines(slice_lines)
                batches += len(slice_lines)
    return Workload(path, entries, batches, deep_lot, run)


def _slice_jobs(run: str, start: datetime, remaining: int) -> list[tuple[str, int, datetime, int]]:
    """(run, slice number, start, most entries to take) until `remaining` entries are planned.

    A slice of CHAINS chains gives a little under 3,700 accepted entries; the last slice is cut.
    """
    jobs: list[tuple[str, int, datetime, int]] = []
    number = 0
    while remaining > 0:
        take = min(remaining, 3_600)
        jobs.append((run, number, start, take))
        remaining -= take
        number += 1
    return jobs


def _slice(job: tuple[str, int, datetime, int]) -> list[bytes]:
    run, number, start, take = job
    scenario = generate(BASE_SEED + 1 + number, chains=CHAINS, fraud_rate=FRAUD_RATE, start=start)
    keyring = _keyring()
    steps = [s for s in scenario.steps if s.expect == "accept"][:take]
    if len(steps) < take:
        raise RuntimeError(f"slice {number} has only {len(steps)} accepted steps, want {take}")
    prefix = f"{run}.{number}."
    heads: dict[str, str] = {}
    envelopes = []
    for step in steps:
        event = _reidentify(step.event, prefix, heads)
        envelopes.append(_sign(keyring, step.actor, event))
    return [_line(f"s{number % 2}", chunk) for chunk in _chunks(envelopes)]


_KEYRING: dict[str, Ed25519PrivateKey] = {}


def _keyring() -> dict[str, Ed25519PrivateKey]:
    if not _KEYRING:
        first = generate(BASE_SEED, chains=1, fraud_rate=0, start=datetime(2020, 1, 1, tzinfo=UTC))
        _KEYRING.update(scenario_run.signers(first))
    return _KEYRING


def _sign(keyring: dict[str, Ed25519PrivateKey], actor: str, event: dict[str, Any]) -> Any:
    key = keyring[actor]
    keyid = keys.key_id(actor, keys.raw_public_key(key))
    return sign_envelope(canonical(event), key, keyid).to_json()


def _chunks(envelopes: list[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    size = 0
    for envelope in envelopes:
        length = len(json.dumps(envelope, separators=(",", ":"))) + 1
        if chunk and (len(chunk) == BATCH_ENVELOPES or size + length > BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(envelope)
        size += length
    if chunk:
        yield chunk


def _line(stream: str, envelopes: list[Any]) -> bytes:
    body = json.dumps({"envelopes": envelopes}, separators=(",", ":"))
    return f"{stream} {len(envelopes)} {body}\n".encode()


def _reidentify(event: dict[str, Any], prefix: str, heads: dict[str, str]) -> dict[str, Any]:
    """The event with every id it names prefixed, and `prev` naming the rewritten heads."""

    def lot(old: str) -> str:
        return prefix + old

    new = dict(event)
    new["id"] = prefix + event["id"]
    new["prev"] = {lot(old): heads[lot(old)] for old in event["prev"]}
    made: list[str] = []
    match event["type"]:
        case "lot.extract":
            new["lot"] = {**event["lot"], "id": lot(event["lot"]["id"])}
            made.append(new["lot"]["id"])
        case "lot.transform":
            new["inputs"] = [{**part, "lot": lot(part["lot"])} for part in event["inputs"]]
            new["outputs"] = [{**out, "id": lot(out["id"])} for out in event["outputs"]]
            made.extend(out["id"] for out in new["outputs"])
        case "lot.assay":
            new["lot"] = lot(event["lot"])
        case "lot.ship" | "lot.receive":
            new["lots"] = [{**part, "lot": lot(part["lot"])} for part in event["lots"]]
        case "export.declare":
            declaration = event["declaration"]
            new["declaration"] = {
                **declaration,
                "id": prefix + declaration["id"],
                "lots": [lot(old) for old in declaration["lots"]],
            }
            if "licence" in declaration:
                new["declaration"]["licence"] = prefix + declaration["licence"]
        case "customs.decide":
            new["declaration"] = prefix + event["declaration"]
        case "licence.issue":
            new["licence"] = {**event["licence"], "id": prefix + event["licence"]["id"]}
        case "licence.revoke":
            new["licence"] = prefix + event["licence"]
        case "quota.issue":
            new["quota"] = {**event["quota"], "id": prefix + event["quota"]["id"]}
        case other:
            raise ValueError(f"no id rewrite for event type {other!r}")
    event_hash = sha256(canonical(new)).hex()
    for touched in [*new["prev"], *made]:
        heads[touched] = event_hash
    return new


def _deep_lot(
    steps: Any, prefix: str, start: datetime
) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """Twelve ore lots, 84 assays, one blend, three assays: a stockpile with 100 entries behind it.

    Every ore lot has the composition of a generated ore of the same mine, so the assays and
    the blend are consistent and raise no flag.
    """
    ore = next(s.event for s in steps if s.event["type"] == "lot.extract" and s.actor == DEEP_MINE)
    composition = ore["lot"]["composition_ppm"]
    heads: dict[str, str] = {}
    events: list[tuple[str, dict[str, Any]]] = []
    clock = iter(range(10_000))

    def post(actor: str, fields: dict[str, Any], touched: list[str], made: list[str]) -> None:
        number = next(clock)
        event = {
            "id": f"{prefix}ev-{number:03d}",
            "actor": actor,
            "time": (start + timedelta(minutes=number)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "prev": {lot: heads[lot] for lot in touched},
            **fields,
        }
        event_hash = sha256(canonical(event)).hex()
        for lot in [*touched, *made]:
            heads[lot] = event_hash
        events.append((actor, event))

    def assay(lot: str, number: int) -> None:
        fields = {
            "type": "lot.assay",
            "lot": lot,
            "composition_ppm": composition,
            "method": "ICP-MS",
            "lab": NAME[DEEP_LAB],
            "certificate": f"NB-{prefix}{number}",
        }
        post(DEEP_LAB, fields, [lot], [])

    ores = []
    for i in range(DEEP_ORES):
        made = {**ore["lot"], "id": f"{prefix}ore-{i}", "mass_g": 100_000_000 + i}
        fields = {"type": "lot.extract", "lot": made, "site": ore["site"]}
        post(DEEP_MINE, {**fields, "deposit": ore["deposit"]}, [], [made["id"]])
        ores.append(made)
    for made in ores:
        for n in range(DEEP_ORE_ASSAYS):
            assay(made["id"], n)
    pile = f"{prefix}stockpile"
    blend = {
        "type": "lot.transform",
        "process": "blend",
        "inputs": [{"lot": made["id"], "mass_g": made["mass_g"]} for made in ores],
        "outputs": [
            {
                "id": pile,
                "product": "ore",
                "mass_g": sum(made["mass_g"] for made in ores),
                "composition_ppm": composition,
            }
        ],
    }
    post(DEEP_MINE, blend, [made["id"] for made in ores], [pile])
    for n in range(DEEP_PILE_ASSAYS):
        assay(pile, n)
    return events, pile
