"""RFC 9162 §2.1.3.2 and §2.1.4.2: verify inclusion and consistency proofs.

Functions on primitives, as transparency-dev/merkle's `VerifyInclusion`; every failure, bad
arguments included, raises VerificationError, and a root mismatch names both roots in hex.
"""

from collections.abc import Sequence

from ledger.tlog.errors import VerificationError
from ledger.tlog.merkle import HASH_SIZE, node_hash, trailing_zeros


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` with `root`.

    Raises VerificationError for any failure, bad arguments (index >= size) included.
    """
    _verify_match(root_from_inclusion_proof(index, size, leaf_hash, proof), root)


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """Return the root implied by an inclusion proof; requires 0 <= index < size."""
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash")
    _check_proof_hashes(proof)
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise VerificationError(f"wrong proof size {len(proof)}, want {inner + border}")
    seed = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(seed, proof[inner:])


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `size1` with `root1` is a prefix of `size2` with `root2`.

    Requires 0 < size1 <= size2; any failure, bad sizes included, raises VerificationError.
    """
    _verify_match(root_from_consistency_proof(size1, size2, root1, proof), root2)


def root_from_consistency_proof(
    size1: int, size2: int, root1: bytes, proof: Sequence[bytes]
) -> bytes:
    """Return the root of the tree of `size2` implied by `root1` and a consistency proof."""
    if size2 < size1:
        raise VerificationError(f"size2 ({size2}) < size1 ({size1})")
    # Refused even for (0, 0), as the shared transparency-dev vectors require: an empty
    # tree's root is fixed, so a "proof" from it can only mislead.
    if size1 <= 0:
        raise VerificationError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise VerificationError("size1 == size2, but the proof is not empty")
        return root1
    if not proof:
        raise VerificationError("empty consistency proof")
    _check_proof_hashes(proof)
    inner, border = _decompose(size1 - 1, size2)
    shift = trailing_zeros(size1)
    inner -= shift  # the proof starts at the subtree of 2**shift leaves that ends at size1
    # When size1 is that very subtree, the verifier already holds its hash: root1.
    seed, path = (root1, proof) if size1 == 1 << shift else (proof[0], proof[1:])
    if len(path) != inner + border:
        raise VerificationError(f"wrong proof size {len(proof)} for sizes {size1}, {size2}")
    mask = (size1 - 1) >> shift
    hash1 = _chain_border_right(_chain_inner_right(seed, path[:inner], mask), path[inner:])
    _verify_match(hash1, root1)
    return _chain_border_right(_chain_inner(seed, path[:inner], mask), path[inner:])


def _decompose(index: int, size: int) -> tuple[int, int]:
    """Split the proof length of leaf `index` in `size` at where its path leaves size-1's."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        seed = node_hash(sibling, seed) if (index >> i) & 1 else node_hash(seed, sibling)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    # Only left siblings count: the result is the hash of the older, smaller tree.
    for i, sibling in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def _verify_match(calculated: bytes, expected: bytes) -> None:
    if calculated != expected:
        raise VerificationError(
            f"calculated root {calculated.hex()} does not match expected root {expected.hex()}"
        )


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _check_hash(value, f"proof hash {position}")
