"""What a client keeps and checks: acknowledgements, checkpoints, and the stored log."""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from ledger.tlog import merkle, merkle_verify
from ledger.tlog.encoding import b64decode, canonical, sha256
from ledger.tlog.note import Checkpoint, open_checkpoint


def event_hash(event: Mapping[str, Any]) -> str:
    return sha256(canonical(dict(event))).hex()


def envelope_leaf_hash(envelope: Mapping[str, Any]) -> bytes:
    """The leaf hash a client computes from the envelope it sent (protocol.md §4)."""
    return merkle.leaf_hash(canonical(dict(envelope)))


@dataclass(frozen=True)
class Ack:
    """One acknowledged entry (a result of a 201 answer)."""

    index: int
    event_id: str
    leaf_hash: bytes
    checkpoint: str
    inclusion: tuple[bytes, ...]


def acks_from(answer: Mapping[str, Any], envelopes: list[dict[str, Any]]) -> list[Ack]:
    """The acks of a 201 batch answer, checked against what was sent."""
    results = answer.get("results", [answer])
    assert len(results) == len(envelopes), answer
    acks = []
    for result, envelope in zip(results, envelopes, strict=True):
        sent_leaf = envelope_leaf_hash(envelope)
        assert b64decode(result["leaf_hash"]) == sent_leaf, (result, envelope)
        payload = base64.b64decode(envelope["payload"])
        assert result["event_hash"] == sha256(payload).hex()
        acks.append(
            Ack(
                index=result["index"],
                event_id=_event_id(envelope),
                leaf_hash=sent_leaf,
                checkpoint=result["checkpoint"],
                inclusion=tuple(b64decode(h) for h in result["inclusion_proof"]["hashes"]),
            )
        )
    return acks


def _event_id(envelope: Mapping[str, Any]) -> str:
    event_id: str = json.loads(base64.b64decode(envelope["payload"]))["id"]
    return event_id


class CheckpointBook:
    """Every checkpoint note a client saw, from any server, kept for the final checks."""

    def __init__(self) -> None:
        self._notes: set[str] = set()
        self._lock = threading.Lock()

    def add(self, note: str) -> None:
        with self._lock:
            self._notes.add(note)

    def notes(self) -> list[str]:
        with self._lock:
            return sorted(self._notes)

    def __len__(self) -> int:
        with self._lock:
            return len(self._notes)


def verify_checkpoints(book: CheckpointBook, log_vkey: str, base_url: str) -> list[Checkpoint]:
    """Every note verifies with the log key; one root per size; each is a prefix of the next
    (consistency proofs served by `base_url`), so no two clients saw a fork."""
    by_size: dict[int, Checkpoint] = {}
    for note in book.notes():
        checkpoint = open_checkpoint(note, log_vkey)
        seen = by_size.setdefault(checkpoint.size, checkpoint)
        assert seen.root == checkpoint.root, f"two roots at size {checkpoint.size}: a fork"
    ordered = [by_size[size] for size in sorted(by_size)]
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for older, newer in itertools.pairwise(ordered):
            answer = client.get(
                "/v1/proofs/consistency", params={"first": older.size, "second": newer.size}
            )
            assert answer.status_code == 200, answer.text
            proof = [b64decode(h) for h in answer.json()["hashes"]]
            merkle_verify.verify_consistency(older.size, newer.size, older.root, newer.root, proof)
    return ordered


def verify_inclusions(acks: Iterable[Ack], log_vkey: str) -> None:
    """Each ack's inclusion proof leads from its leaf to the root its checkpoint signs."""
    for ack in acks:
        checkpoint = open_checkpoint(ack.checkpoint, log_vkey)
        merkle_verify.verify_inclusion(
            ack.index, checkpoint.size, ack.leaf_hash, ack.inclusion, checkpoint.root
        )


@dataclass
class StoredLog:
    """The entries as the database holds them: index -> (event id, leaf hash)."""

    entries: dict[int, tuple[str, bytes]] = field(default_factory=dict)
    head_size: int = 0

    @property
    def index_of(self) -> dict[str, int]:
        return {event_id: index for index, (event_id, _) in self.entries.items()}


def read_log(database_url: str) -> StoredLog:
    """Read the entries straight from the database (no server involved)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT idx, event_id, leaf_hash FROM entries"))
            stored = StoredLog({int(i): (str(e), bytes(h)) for i, e, h in rows})
            stored.head_size = int(
                connection.execute(text("SELECT size FROM log_head WHERE id = 1")).scalar_one()
            )
    finally:
        engine.dispose()
    return stored


def verify_acknowledged(stored: StoredLog, acks: Iterable[Ack]) -> None:
    """No gap; the head agrees; every acknowledged entry is where it was said to be."""
    assert sorted(stored.entries) == list(range(len(stored.entries))), "a gap in the indices"
    assert stored.head_size == len(stored.entries), (stored.head_size, len(stored.entries))
    seen: set[int] = set()
    for ack in acks:
        assert ack.index not in seen, f"index {ack.index} acknowledged twice"
        seen.add(ack.index)
        assert ack.index in stored.entries, f"acknowledged entry {ack.index} is gone"
        assert stored.entries[ack.index] == (ack.event_id, ack.leaf_hash), (
            f"entry {ack.index} is not the one acknowledged"
        )


@dataclass
class CountingIds:
    """Unique, readable ids for one run (lots, events)."""

    prefix: str
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def next(self, kind: str) -> str:
        return f"{self.prefix}-{kind}-{next(self.counter)}"
