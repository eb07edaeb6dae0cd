"""The memos of `ledger.verify.lot`: bounded, keyed by exact inputs, never hiding a change."""

import json

from ledger.lots.records import KeyState
from ledger.tlog import merkle
from ledger.tlog.encoding import canonical, parse_json
from ledger.tlog.note import Checkpoint
from ledger.verify.entry import ParsedEntry, parse_entry
from ledger.verify.lot import ProvenEntry, TrustRoots, verify_entries
from ledger.verify.memo import Memos, VerifiedEntries, VerifiedInclusions
from tests.support import Party, extract

MINE = Party("memo-mine")


def _envelopes(count: int) -> list[bytes]:
    return [canonical(MINE.envelope(extract(MINE, f"ORE-{n}"))) for n in range(count)]


def _parsed(envelope: bytes) -> ParsedEntry:
    return parse_entry(parse_json(envelope))


def _log(envelopes: list[bytes]) -> tuple[list[ProvenEntry], TrustRoots]:
    """The envelopes as the whole log (index 0 onwards), with proofs to its root."""
    leaves = [merkle.leaf_hash(envelope) for envelope in envelopes]
    size = len(leaves)

    def node(level: int, index: int) -> bytes:
        return merkle.root_from_leaves(leaves[index << level : (index + 1) << level])

    entries = [
        ProvenEntry(i, envelope, tuple(merkle.inclusion_proof(i, size, node)))
        for i, envelope in enumerate(envelopes)
    ]
    key = KeyState(MINE.keyid, MINE.id, MINE.public_key, valid_from=-1, revoked_at=None)
    operator = Party("operator")
    roots = TrustRoots(
        checkpoint=Checkpoint("memo.test/log", size, merkle.root_from_leaves(leaves)),
        keys={MINE.keyid: key},
        operator_keyid=operator.keyid,
        operator_public_key=operator.public_key,
    )
    return entries, roots


def test_entries_memo_is_bounded_by_entries_least_recently_used_out() -> None:
    memo = VerifiedEntries(max_entries=3, max_bytes=1 << 20)
    parsed = [_parsed(envelope) for envelope in _envelopes(4)]
    for found in parsed[:3]:
        memo.remember(found)
    assert memo.parsed(parsed[0].leaf_bytes) is parsed[0]  # now the most recent
    memo.remember(parsed[3], MINE.public_key)
    assert len(memo) == 3
    assert memo.parsed(parsed[1].leaf_bytes) is None
    assert memo.parsed(parsed[0].leaf_bytes) is parsed[0]
    assert memo.verified(parsed[3], MINE.public_key)
    assert not memo.verified(parsed[3], Party("other").public_key)
    assert not memo.verified(parsed[0], MINE.public_key)


def test_entries_memo_is_bounded_by_envelope_bytes() -> None:
    envelopes = _envelopes(5)
    budget = sum(len(envelope) for envelope in envelopes[:2]) + 1
    memo = VerifiedEntries(max_entries=100, max_bytes=budget)
    for envelope in envelopes:
        memo.remember(_parsed(envelope))
    assert len(memo) == 2 and memo.nbytes <= budget
    assert [memo.parsed(e) is not None for e in envelopes] == [False, False, False, True, True]


def test_inclusion_digest_is_of_every_input_and_refuses_odd_lengths() -> None:
    leaf, root, node = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    digest = VerifiedInclusions.digest(5, 9, leaf, (node, node), root)
    assert digest is not None
    others = [
        VerifiedInclusions.digest(4, 9, leaf, (node, node), root),
        VerifiedInclusions.digest(5, 10, leaf, (node, node), root),
        VerifiedInclusions.digest(5, 9, root, (node, node), root),
        VerifiedInclusions.digest(5, 9, leaf, (node, leaf), root),
        VerifiedInclusions.digest(5, 9, leaf, (node,), root),
        VerifiedInclusions.digest(5, 9, leaf, (node, node), leaf),
    ]
    assert None not in others and len({digest, *others}) == 7
    assert VerifiedInclusions.digest(5, 9, leaf, (node[:31], node + b"\x03"), root) is None
    assert VerifiedInclusions.digest(5, 9, leaf[:31], (node,), root) is None
    memo = VerifiedInclusions(max_entries=2)
    for n in range(3):
        memo.add(bytes([n]) * 32)
    assert len(memo) == 2 and not memo.passed(bytes(32)) and memo.passed(b"\x02" * 32)


def test_a_second_verification_gives_the_same_results_from_the_memo() -> None:
    memos = Memos()
    entries, roots = _log(_envelopes(5))
    first = verify_entries(entries, roots, {}, memos)
    assert all(result.ok for result in first)
    assert len(memos.entries) == 5 and len(memos.inclusions) == 5
    again = verify_entries(entries, roots, {}, memos)
    assert again == first
    assert [a.event is b.event for a, b in zip(first, again, strict=True)] == [True] * 5


def test_a_non_canonical_envelope_is_reported_every_time_and_not_memoised() -> None:
    memos = Memos()
    envelopes = _envelopes(3)
    entries, roots = _log(envelopes)
    spaced = json.dumps(json.loads(envelopes[1])).encode()  # same content, with spaces
    assert spaced != envelopes[1]
    entries[1] = ProvenEntry(1, spaced, entries[1].proof)
    for _ in range(2):
        results = verify_entries(entries, roots, {}, memos)
        assert results[1].problems[0] == "(1) the stored envelope is not in canonical form"
        assert results[0].ok and results[2].ok
    assert memos.entries.parsed(spaced) is None and len(memos.entries) == 2


def test_a_bad_signature_is_reported_every_time_and_never_memoised() -> None:
    memos = Memos()
    envelopes = _envelopes(2)
    forged = canonical(Party(MINE.id).envelope(extract(MINE, "ORE-F"), keyid=MINE.keyid))
    entries, roots = _log([*envelopes, forged])
    for _ in range(2):
        results = verify_entries(entries, roots, {}, memos)
        assert [result.ok for result in results] == [True, True, False]
        assert results[2].problems == (
            f"(4) the signature by {MINE.keyid} does not verify over the payload",
        )
    known = memos.entries.parsed(forged)  # its parse is memoised, its signature not
    assert known is not None and not memos.entries.verified(known, MINE.public_key)
