"""The pure bundle verifier on logs built in memory, honest ones and ones no ledger would accept."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledger.lots.policy import CustodyPolicy
from ledger.lots.tolerances import Tolerances
from ledger.tlog import merkle
from ledger.tlog.encoding import b64encode, canonical, sha256
from ledger.tlog.keys import generate_private_key, raw_public_key, verifier_key
from ledger.tlog.note import Checkpoint, sign_checkpoint
from ledger.tlog.proof import TlogProof, format_tlog_proof
from ledger.verify.bundle import (
    BundleFormatError,
    BundleReport,
    parse_bundle,
    verify_bundle,
)
from tests.support import Party, decide, declare, event, extract, receive, register, ship, transform

ORIGIN = "unit.ree-ledger.local/log"


class OfflineLog:
    """A log in memory that applies no rule: it signs whatever it is given, as a dishonest
    operator could. `bundle()` serves it the way GET /v1/lots/{lot}/bundle does."""

    def __init__(self) -> None:
        self.log_key = generate_private_key()
        self.operator = Party("operator")
        self.envelopes: list[dict[str, Any]] = []
        self.heads: dict[str, str] = {}

    @property
    def vkey(self) -> str:
        return verifier_key(ORIGIN, raw_public_key(self.log_key))

    @property
    def operator_key(self) -> bytes:
        return self.operator.public_key

    def add(self, party: Party, event: dict[str, Any]) -> int:
        self.envelopes.append(party.envelope(event))
        touched = [*event["prev"]]
        touched += [event["lot"]["id"]] if event["type"] == "lot.extract" else []
        touched += [o["id"] for o in event.get("outputs", [])]
        for lot in touched:
            self.heads[lot] = sha256(canonical(event)).hex()
        return len(self.envelopes) - 1

    def enrol(self, party: Party, roles: list[str]) -> Party:
        self.add(self.operator, register(self.operator, party, roles))
        return party

    def bundle(self, lot: str, indices: list[int] | None = None, tlog: bool = False) -> Any:
        leaves = [merkle.leaf_hash(canonical(envelope)) for envelope in self.envelopes]
        tree, nodes = merkle.CompactRange(), {}
        for leaf in leaves:
            nodes.update({(level, idx): node for level, idx, node in tree.append(leaf)})
        size = len(leaves)
        note = sign_checkpoint(Checkpoint(ORIGIN, size, tree.root()), ORIGIN, self.log_key)
        entries = []
        for index in range(size) if indices is None else indices:
            proof = merkle.inclusion_proof(index, size, lambda level, i: nodes[(level, i)])
            entry = {
                "index": index,
                "envelope": copy.deepcopy(self.envelopes[index]),
                "event_hash": sha256(_payload(self.envelopes[index])).hex(),
                "leaf_hash": b64encode(leaves[index]),
                "inclusion_proof": {"index": index, "size": size, "hashes": _b64(proof)},
            }
            if tlog:
                entry["tlog_proof"] = format_tlog_proof(TlogProof(index, tuple(proof), note))
            entries.append(entry)
        return {
            "format": "ree-ledger.bundle.v1",
            "lot": lot,
            "origin": ORIGIN,
            "log_key": self.vkey,
            "operator_key": b64encode(self.operator_key),
            "checkpoint": note,
            "entries": entries,
        }

    def verify(self, bundle: Any) -> BundleReport:
        return verify_bundle(parse_bundle(bundle), self.vkey, self.operator_key, Tolerances())


def _payload(envelope: dict[str, Any]) -> bytes:
    import base64

    return base64.b64decode(envelope["payload"])


def _b64(hashes: list[bytes]) -> list[str]:
    return [b64encode(value) for value in hashes]


def honest_chain() -> tuple[OfflineLog, dict[str, Party]]:
    """Mine → concentrate → ship/receive (short-weighed) → separation → ship/receive →
    declare → release, with an unrelated lot logged in between."""
    log = OfflineLog()
    cast = {
        "mine": log.enrol(Party("baotou-mine"), ["mine"]),
        "plant": log.enrol(Party("gansu-plant"), ["processor"]),
        "exporter": log.enrol(Party("ningbo-export"), ["exporter"]),
        "customs": log.enrol(Party("tianjin-customs"), ["customs"]),
    }
    mine, plant, exporter = cast["mine"], cast["plant"], cast["exporter"]
    log.add(mine, extract(mine, "ORE-1", 10_000_000))
    log.add(mine, extract(mine, "ORE-9", 10_000_000))  # not in the bundle of OX-1
    concentrate = [("CON-1", "concentrate", 1_000_000)]
    log.add(mine, transform(mine, log.heads, [("ORE-1", 10_000_000)], concentrate))
    log.add(mine, ship(mine, log.heads, plant.id, [("CON-1", 1_000_000)]))
    log.add(plant, receive(plant, log.heads, mine.id, [("CON-1", 800_000)]))
    oxide = [("OX-1", "oxide", 300_000)]
    log.add(plant, transform(plant, log.heads, [("CON-1", 800_000)], oxide, "separation"))
    log.add(plant, ship(plant, log.heads, exporter.id, [("OX-1", 300_000)]))
    log.add(exporter, receive(exporter, log.heads, plant.id, [("OX-1", 300_000)]))
    log.add(exporter, declare(exporter, log.heads, "DEC-1", ["OX-1"], 300_000))
    log.add(cast["customs"], decide(cast["customs"], log.heads, "DEC-1", ["OX-1"], "release"))
    return log, cast


def without(bundle: Any, *indices: int) -> Any:
    trimmed = copy.deepcopy(bundle)
    trimmed["entries"] = [e for e in trimmed["entries"] if e["index"] not in indices]
    return trimmed


def test_an_honest_bundle_verifies() -> None:
    log, _ = honest_chain()
    report = log.verify(log.bundle("OX-1", [*range(0, 5), *range(6, 14)]))
    assert report.ok, report.failures
    assert report.ancestry == {"OX-1", "CON-1", "ORE-1"} and report.gaps == ()
    assert report.head == log.heads["OX-1"]
    assert report.state is not None and report.state.status == "exported"
    assert [mine.lot for mine in report.mines] == ["ORE-1"]
    assert [share.origin.lot for share in report.shares] == ["ORE-1"]
    codes = {(found.index, found.flag.code) for found in report.flags}
    assert (8, "RECEIPT_MISMATCH") in codes  # recomputed: a finding, not a failure


def test_an_unrelated_entry_in_the_bundle_is_harmless() -> None:
    log, _ = honest_chain()
    assert log.verify(log.bundle("OX-1")).ok


def test_wrong_log_key_fails_at_13_and_14() -> None:
    log, _ = honest_chain()
    report = verify_bundle(
        parse_bundle(log.bundle("OX-1")),
        verifier_key(ORIGIN, raw_public_key(generate_private_key())),
        log.operator_key,
        Tolerances(),
    )
    assert report.failures[0].startswith("bundle: (13) it states the log key")
    assert report.failures[1].startswith("checkpoint: (14)")


def test_wrong_operator_key_fails_at_13_and_every_registry_entry() -> None:
    log, _ = honest_chain()
    other = Party("operator").public_key
    report = verify_bundle(parse_bundle(log.bundle("OX-1")), log.vkey, other, Tolerances())
    assert report.failures[0].startswith("bundle: (13) it states the operator key")
    assert report.failures[1].startswith("entry 0: (4)")


def test_a_missing_entry_breaks_the_chain() -> None:
    log, _ = honest_chain()
    report = log.verify(without(log.bundle("OX-1"), 7))  # CON-1 shipped to the plant
    [failure] = report.failures  # later entries are not replayed, so do not fail again
    assert failure.startswith("entry 8: (12) prev.CON-1 is")
    assert "previous entry of lot CON-1 is entry 6" in failure
    notes = {check.index: check.notes for check in report.entries if check.notes}
    assert sorted(notes) == [9, 10, 11, 12, 13]
    assert notes[9] == ["custody not replayed: an earlier entry of CON-1 failed"]


def test_a_missing_extract_is_a_gap_in_the_ancestry() -> None:
    log, _ = honest_chain()
    report = log.verify(without(log.bundle("OX-1"), 4))
    assert report.failures[0].startswith("entry 6: (12) prev.ORE-1")
    assert report.failures[-1] == "lot ORE-1: (15) no entry of the bundle creates it"


def test_a_missing_registration_fails_the_signatures() -> None:
    log, _ = honest_chain()
    report = log.verify(without(log.bundle("OX-1"), 1))  # the plant's registration
    assert report.failures[0] == (
        "entry 7: (16) to: participant 'gansu-plant' is not registered; ask the operator to "
        "register it first"
    )
    assert report.failures[1].startswith("entry 8: (4) signatures.0.keyid: key 'gansu-plant/")


def test_an_entry_signed_after_its_key_was_revoked_fails() -> None:
    log, cast = honest_chain()
    mine = cast["mine"]
    revoke = event("operator", "participant.key_revoke", participant=mine.id, keyid=mine.keyid)
    log.add(log.operator, revoke)
    index = log.add(mine, extract(mine, "ORE-2", 1_000))
    report = log.verify(log.bundle("ORE-2"))
    assert report.failures == [
        f"entry {index}: (4) signatures.0.keyid: key {mine.keyid!r} was revoked at entry "
        f"{index - 1}; sign with a current key"
    ]


def test_custody_no_ledger_would_accept_fails_the_replay() -> None:
    log, cast = honest_chain()
    mine, exporter = cast["mine"], cast["exporter"]
    # The mine ships the concentrate again although the plant consumed it: validly signed.
    index = log.add(mine, ship(mine, log.heads, exporter.id, [("CON-1", 1_000_000)]))
    report = log.verify(log.bundle("CON-1"))
    assert report.failures == [
        f"entry {index}: (16) lots.0.lot: lot 'CON-1' is not in the custody of 'baotou-mine'; "
        "only the lot's custodian may post this event"
    ]


def test_duplicate_and_unreadable_entries_fail() -> None:
    log, _ = honest_chain()
    bundle = log.bundle("OX-1")
    bundle["entries"].append(copy.deepcopy(bundle["entries"][5]))
    assert log.verify(bundle).failures == [
        "entry 5: (11) the bundle holds this entry more than once"
    ]
    bundle = log.bundle("OX-1")
    del bundle["entries"][5]["envelope"]["payloadType"]
    assert log.verify(bundle).failures[0].startswith("entry 5: (1) envelope: envelope is missing")
    bundle = log.bundle("OX-1")
    bundle["entries"][5]["event_hash"] = "0" * 64
    assert log.verify(bundle).failures[0].startswith("entry 5: (3) event_hash '0000")


def test_tlog_proofs_in_the_bundle_are_checked() -> None:
    log, _ = honest_chain()
    bundle = log.bundle("OX-1", tlog=True)
    assert log.verify(bundle).ok
    first, second = bundle["entries"][3], bundle["entries"][4]
    first["tlog_proof"], second["tlog_proof"] = second["tlog_proof"], first["tlog_proof"]
    failures = log.verify(bundle).failures
    assert failures[0] == "entry 3: (11) tlog_proof: the tlog-proof is for entry 4, not 3"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("checkpoint"), "bundle.checkpoint: field required"),
        (lambda b: b.update(format="v2"), "bundle.format: input should be 'ree-ledger.bundle.v1'"),
        (lambda b: b.update(extra=1), "bundle.extra: extra inputs are not permitted"),
        (lambda b: b["entries"][0].update(index=True), "bundle.entries.0.index: input should be"),
        (lambda b: b["entries"][1]["inclusion_proof"].update(hashes=[1]), "bundle.entries.1"),
    ],
)
def test_a_bundle_of_the_wrong_shape_is_refused(change: Any, message: str) -> None:
    log, _ = honest_chain()
    bundle = log.bundle("OX-1")
    change(bundle)
    with pytest.raises(BundleFormatError, match=message.replace(".", r"\.")):
        parse_bundle(bundle)


def test_a_changed_entry_fails_alone_and_what_follows_is_not_replayed() -> None:
    log, _ = honest_chain()
    bundle = log.bundle("OX-1")
    payload = bundle["entries"][9]["envelope"]["payload"]
    bundle["entries"][9]["envelope"]["payload"] = payload[:-8] + "A" + payload[-7:]
    report = log.verify(bundle)
    [*failures, gap] = report.failures
    assert {failure.split(":")[0] for failure in failures} == {"entry 9"}
    assert gap == "lot OX-1: (15) no entry of the bundle creates it"  # no readable one does
    stopped = [c.index for c in report.entries if any("not replayed" in n for n in c.notes)]
    assert stopped == [10, 11, 12, 13]
    assert all(found.index < 9 for found in report.flags)  # none from what was not believed


def test_a_declaration_with_a_lot_outside_the_ancestry_is_replayed_without_flags() -> None:
    log = OfflineLog()
    trader = log.enrol(Party("baotou-trade"), ["mine", "exporter"])
    customs = log.enrol(Party("tianjin-customs"), ["customs"])
    log.add(trader, extract(trader, "ORE-A", 1_000_000))
    log.add(trader, extract(trader, "ORE-B", 1_000_000))
    declared = log.add(trader, declare(trader, log.heads, "DEC-1", ["ORE-A", "ORE-B"], 5))
    log.add(customs, decide(customs, log.heads, "DEC-1", ["ORE-A", "ORE-B"], "hold"))
    report = log.verify(log.bundle("ORE-A"))
    assert report.ok, report.failures
    assert [check.index for check in report.entries if check.notes] == [declared, declared + 1]
    assert report.entries[declared].notes[0].endswith("flags not recomputed")
    assert "custody and flags checked" in report.entries[declared + 1].notes[0]
    assert report.flags == ()  # the declared mass is far off, but it is of two lots
    assert report.state is not None and report.state.status == "declared"


TOL = Tolerances()


def test_the_custody_policy_is_replayed_as_the_server_applied_it() -> None:
    """A decision by customs of another country, and an event dated 1970, fail step (16)
    under the default policy; the customs union the server was given lets the decision
    pass, as it passed at ingest."""
    log = OfflineLog()
    mine = log.enrol(Party("baotou-mine"), ["mine"])
    exporter = log.enrol(Party("ningbo-export"), ["exporter"])
    hamburg = Party("hamburg-customs")
    log.add(log.operator, register(log.operator, hamburg, ["customs"], "DE"))
    log.add(mine, extract(mine, "ORE-1"))
    log.add(mine, ship(mine, log.heads, exporter.id, [("ORE-1", 1_000_000)]))
    log.add(exporter, receive(exporter, log.heads, mine.id, [("ORE-1", 1_000_000)]))
    log.add(exporter, declare(exporter, log.heads, "DEC-1", ["ORE-1"], 1_000_000))
    index = log.add(hamburg, decide(hamburg, log.heads, "DEC-1", ["ORE-1"], "release"))
    bundle = parse_bundle(log.bundle("ORE-1"))
    [failure] = verify_bundle(bundle, log.vkey, log.operator_key, TOL).failures
    assert failure.startswith(f"entry {index}: (16) declaration: declaration 'DEC-1' was filed")
    union = CustodyPolicy(customs_jurisdictions={"DE": frozenset({"CN"})})
    assert verify_bundle(bundle, log.vkey, log.operator_key, TOL, union).ok
    ancient = {**extract(mine, "ORE-2"), "time": "1970-01-01T00:00:00Z"}
    index = log.add(mine, ancient)
    later = parse_bundle(log.bundle("ORE-2"))
    [failure] = verify_bundle(later, log.vkey, log.operator_key, TOL, union).failures
    assert failure.startswith(f"entry {index}: (16) time: 1970-01-01T00:00:00Z is before")
