"""Any one byte changed in a bundle's entries, proofs or checkpoint fails, naming where."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from ledger.tlog.encoding import b64decode, b64encode
from tests.unit.test_bundle import honest_chain

Mutation = tuple[str, str, Any]
"""(what was changed, where the failure must be named, the changed bundle)."""


def flip_bit(text: str, position: int) -> str:
    """Flip one bit of the decoded bytes at `position` (from the end if negative), re-encode."""
    data = bytearray(b64decode(text))
    data[position] ^= 1 << (position % 8)
    return b64encode(bytes(data))


def edit_char(text: str, position: int) -> str:
    """Replace the character at `position` by another one: raw text, decodable or not."""
    replacement = "A" if text[position] != "A" else "B"
    return text[:position] + replacement + text[position + 1 :]


# The object holding each string field of an entry (the key is the field name itself).
FIELDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "payload": lambda entry: entry["envelope"],
    "payloadType": lambda entry: entry["envelope"],
    "sig": lambda entry: entry["envelope"]["signatures"][0],
    "keyid": lambda entry: entry["envelope"]["signatures"][0],
    "event_hash": lambda entry: entry,
    "leaf_hash": lambda entry: entry,
}
Edit = tuple[str, str, Callable[[str], str]]


def edited(bundle: Any, position: int, field: str, edit: Callable[[str], str]) -> Any:
    """A copy of `bundle` with one field of its `position`-th entry edited."""
    copied = copy.deepcopy(bundle)
    holder = FIELDS[field](copied["entries"][position])
    holder[field] = edit(holder[field])
    return copied


def entry_edits(payload_size: int, thorough: bool) -> list[Edit]:
    """Bits flipped in the decoded payload and signature, raw characters edited, and (when
    thorough) the key id, the payload type and the stated hashes."""
    payload_bits = (0, payload_size // 2, payload_size - 1) if thorough else (payload_size // 3,)
    chars = (0, 10, -1, -3) if thorough else (10,)
    edits: list[Edit] = [
        ("payload", f"bit {n}", partial(flip_bit, position=n)) for n in payload_bits
    ]
    edits += [
        ("sig", f"bit {n}", partial(flip_bit, position=n))
        for n in ((0, 31, 63) if thorough else (40,))
    ]
    for field in ("payload", "sig"):
        edits += [(field, f"char {n}", partial(edit_char, position=n)) for n in chars]
    if thorough:
        edits += [("keyid", "char", partial(edit_char, position=-1))]
        edits += [("payloadType", "char", partial(edit_char, position=3))]
        edits += [("event_hash", "char", partial(edit_char, position=5))]
        edits += [("leaf_hash", "bit", partial(flip_bit, position=7))]
    return edits


def entry_mutations(bundle: Any, thorough: bool = True) -> Iterator[Mutation]:
    """Every entry's envelope and stated hashes, one change at a time."""
    for position, entry in enumerate(bundle["entries"]):
        where = f"entry {entry['index']}"
        payload_size = len(b64decode(entry["envelope"]["payload"]))
        for field, how, edit in entry_edits(payload_size, thorough):
            yield f"{where} {field} {how}", where, edited(bundle, position, field, edit)


def proof_mutations(bundle: Any, thorough: bool = True) -> Iterator[Mutation]:
    """Every hash of every inclusion proof: a bit flipped (and a raw character edited)."""
    for position, entry in enumerate(bundle["entries"]):
        where = f"entry {entry['index']}"
        hashes = entry["inclusion_proof"]["hashes"]
        for number in range(len(hashes)) if thorough else range(min(1, len(hashes))):
            for name, edit in (("bit", flip_bit), ("char", edit_char)):
                copied = copy.deepcopy(bundle)
                proof = copied["entries"][position]["inclusion_proof"]["hashes"]
                proof[number] = edit(proof[number], 3)
                yield f"{where} proof hash {number} {name}", where, copied


def checkpoint_mutations(bundle: Any) -> Iterator[Mutation]:
    """The checkpoint: a bit of its root, a bit of its signature, its origin and size lines."""
    origin, size, root, blank, signature = bundle["checkpoint"].rstrip("\n").split("\n")
    name, _, stamp = signature.rpartition(" ")
    variants = {
        "root bit": [origin, size, flip_bit(root, 0), blank, signature],
        "signature bit": [origin, size, root, blank, f"{name} {flip_bit(stamp, -1)}"],
        "size": [origin, str(int(size) + 1), root, blank, signature],
        "origin": [edit_char(origin, 0), size, root, blank, signature],
    }
    for what, lines in variants.items():
        copied = copy.deepcopy(bundle)
        copied["checkpoint"] = "\n".join(lines) + "\n"
        yield f"checkpoint {what}", "checkpoint", copied


def test_any_one_byte_changed_fails_and_names_where() -> None:
    log, _ = honest_chain()
    bundle = log.bundle("OX-1", tlog=False)
    assert log.verify(bundle).ok
    tried = 0
    for mutations in (entry_mutations(bundle), proof_mutations(bundle)):
        for what, where, changed in mutations:
            failures = log.verify(changed).failures
            assert failures and failures[0].startswith(f"{where}:"), (what, failures)
            tried += 1
    for what, where, changed in checkpoint_mutations(bundle):
        failures = log.verify(changed).failures
        assert failures and failures[0].startswith(f"{where}: (14)"), (what, failures)
    assert tried > 14 * 20
