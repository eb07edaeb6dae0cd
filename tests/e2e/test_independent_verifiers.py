"""The independent client's own JCS and RFC 9162 verifiers, checked against references.

The references are not the ledger's code: `rfc8785` (Trail of Bits) for JCS, and the RFC 9162
recursive definitions (MTH §2.1.1, PATH §2.1.3.1, SUBPROOF §2.1.4.1) written out literally.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import rfc8785

from tests.e2e.independent_client import (
    VerificationError,
    jcs,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 20


def _mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two smaller than n
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [_mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


LEAVES = [f"leaf {i}".encode() for i in range(MAX_SIZE)]
SIZES = range(1, MAX_SIZE + 1)


@pytest.mark.parametrize("size", SIZES)
def test_own_inclusion_verifier_accepts_every_rfc9162_path_and_rejects_a_flipped_bit(
    size: int,
) -> None:
    leaves = LEAVES[:size]
    root = _mth(leaves)
    for index in range(size):
        path = _path(index, leaves)
        leaf = leaf_hash(leaves[index])
        verify_inclusion(leaf, index, size, path, root)
        with pytest.raises(VerificationError):
            verify_inclusion(leaf, index, size, path, root[:-1] + bytes([root[-1] ^ 1]))
        with pytest.raises(VerificationError):
            verify_inclusion(leaf, index, size, [*path, root], root)
        if path:
            with pytest.raises(VerificationError):
                verify_inclusion(leaf, index, size, [*path[:-1], bytes(32)], root)


@pytest.mark.parametrize("second", SIZES)
def test_own_consistency_verifier_accepts_every_rfc9162_proof_and_rejects_a_flipped_bit(
    second: int,
) -> None:
    leaves = LEAVES[:second]
    second_root = _mth(leaves)
    for first in range(1, second + 1):
        first_root = _mth(leaves[:first])
        proof = _subproof(first, leaves, True)
        verify_consistency(first, second, first_root, second_root, proof)
        for bad in range(len(proof)):
            tampered = [
                *proof[:bad],
                bytes([proof[bad][0] ^ 1]) + proof[bad][1:],
                *proof[bad + 1 :],
            ]
            with pytest.raises(VerificationError):
                verify_consistency(first, second, first_root, second_root, tampered)
        if first < second:
            with pytest.raises(VerificationError):
                verify_consistency(first, second, second_root, second_root, proof)


def test_own_jcs_matches_rfc8785_on_escapes_key_order_and_non_ascii() -> None:
    value: dict[str, Any] = {
        "\u20ac": "euro",
        "\r": "cr",
        "1": 1,
        "\U0001f600": "astral, above \ufb33 in UTF-16 order",
        "ctl": '\x00\x1f\x7f\b\t\n\f\r"\\/\u2028',
        "neg": -9007199254740991,
        "list": [False, {}, None, "caf\u00e9"],
    }
    assert jcs(value) == rfc8785.dumps(value)
    assert jcs({"b": 1, "a": [True, None]}) == b'{"a":[true,null],"b":1}'
