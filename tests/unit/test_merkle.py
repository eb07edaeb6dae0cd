"""RFC 9162 Merkle tree: golden vectors, real CT data, proofs read from stored subtrees."""

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.tlog.errors import VerificationError
from ledger.tlog.merkle import (
    EMPTY_ROOT,
    CompactRange,
    NodeId,
    consistency_nodes,
    consistency_proof,
    inclusion_from_hashes,
    inclusion_nodes,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    node_hash,
    right_edge,
    root_at,
    root_from_leaves,
    root_nodes,
)
from ledger.tlog.merkle_verify import (
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.vectors import vector_files, vector_path

CT_OLD_SIZE = 3_654_490
CT_OLD_ROOT = base64.b64decode("AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=")

# RFC 6962 test leaves and known answers (as in transparency-dev/merkle's verify_test.go).
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
INCLUSION_ANSWERS = {  # (index, size) -> proof
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
CONSISTENCY_ANSWERS = {  # (first, second) -> proof
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (6, 7): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _proof(obj: dict[str, Any]) -> list[bytes]:
    # Go writes a nil slice as null.
    return [_b64(h) for h in obj["proof"] or []]


def _store(leaf_hashes: list[bytes]) -> dict[NodeId, bytes]:
    """Every perfect subtree hash, as the sequencer stores them."""
    nodes: dict[NodeId, bytes] = {}
    tree = CompactRange()
    for h in leaf_hashes:
        nodes.update({(level, index): node for level, index, node in tree.append(h)})
    return nodes


@pytest.mark.parametrize("path", vector_files("merkle", "inclusion", recursive=True))
def test_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), _proof(v), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", vector_files("merkle", "consistency", recursive=True))
def test_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _proof(v))
    if v["wantErr"]:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_vectors_cover_every_directory() -> None:
    assert len(list(vector_path("merkle").rglob("*.json"))) == 196


def _ct(name: str) -> Any:
    return json.loads(vector_path("ct-argon2020", name).read_text())


def test_ct_argon2020_inclusion_proof_verifies_at_size_961984013() -> None:
    sth, proof = _ct("sth.json"), _ct("proof.json")
    leaf = leaf_hash(_b64(_ct("entries.json")["entries"][0]["leaf_input"]))
    path = [_b64(h) for h in proof["audit_path"]]
    verify_inclusion(
        proof["leaf_index"], sth["tree_size"], leaf, path, _b64(sth["sha256_root_hash"])
    )


def test_ct_argon2020_inclusion_rejects_neighbouring_index() -> None:
    sth, proof = _ct("sth.json"), _ct("proof.json")
    leaf = leaf_hash(_b64(_ct("entries.json")["entries"][0]["leaf_input"]))
    path = [_b64(h) for h in proof["audit_path"]]
    with pytest.raises(VerificationError):
        verify_inclusion(10_001, sth["tree_size"], leaf, path, _b64(sth["sha256_root_hash"]))


def test_ct_argon2020_consistency_proof_verifies() -> None:
    sth = _ct("sth.json")
    proof = [_b64(h) for h in _ct("consistency.json")["consistency"]]
    root2 = _b64(sth["sha256_root_hash"])
    verify_consistency(CT_OLD_SIZE, sth["tree_size"], CT_OLD_ROOT, root2, proof)


def test_ct_argon2020_consistency_rejects_other_old_root() -> None:
    sth = _ct("sth.json")
    proof = [_b64(h) for h in _ct("consistency.json")["consistency"]]
    with pytest.raises(VerificationError, match="does not match"):
        verify_consistency(
            CT_OLD_SIZE, sth["tree_size"], EMPTY_ROOT, _b64(sth["sha256_root_hash"]), proof
        )


def test_proofs_at_ct_scale_read_as_many_stored_nodes_as_argon2020_sends() -> None:
    size = _ct("sth.json")["tree_size"]
    nodes = inclusion_nodes(10_000, size)
    assert len(inclusion_proof(10_000, size, lambda level, index: b"\0" * 32)) == 30
    assert len(nodes) < 2 * size.bit_length()
    assert len(consistency_proof(CT_OLD_SIZE, size, lambda level, index: b"\0" * 32)) == 30
    assert len(consistency_nodes(CT_OLD_SIZE, size)) < 2 * size.bit_length()


def test_root_from_leaves_matches_rfc6962_known_roots() -> None:
    hashes = [leaf_hash(d) for d in LEAVES]
    assert root_from_leaves([]) == EMPTY_ROOT
    for size, root in enumerate(ROOTS, start=1):
        assert root_from_leaves(hashes[:size]) == root


@pytest.mark.parametrize(("index", "size"), list(INCLUSION_ANSWERS))
def test_inclusion_proof_from_stored_nodes_matches_known_answer(index: int, size: int) -> None:
    nodes = _store([leaf_hash(d) for d in LEAVES[:size]])
    want = [bytes.fromhex(h) for h in INCLUSION_ANSWERS[(index, size)]]
    needed = {n: nodes[n] for n in inclusion_nodes(index, size)}
    assert inclusion_proof(index, size, lambda *n: needed[n]) == want
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), want, ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second"), list(CONSISTENCY_ANSWERS))
def test_consistency_proof_from_stored_nodes_matches_known_answer(first: int, second: int) -> None:
    nodes = _store([leaf_hash(d) for d in LEAVES[:second]])
    want = [bytes.fromhex(h) for h in CONSISTENCY_ANSWERS[(first, second)]]
    needed = {n: nodes[n] for n in consistency_nodes(first, second)}
    assert consistency_proof(first, second, lambda *n: needed[n]) == want
    verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], want)


def test_root_at_equals_root_from_leaves_for_every_size_up_to_100() -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(100)]
    nodes = _store(hashes)
    for size in range(101):
        needed = {n: nodes[n] for n in root_nodes(size)}
        assert root_at(size, lambda *n, needed=needed: needed[n]) == root_from_leaves(hashes[:size])


def test_compact_range_stores_exactly_the_perfect_subtrees() -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(37)]
    nodes = _store(hashes)
    want = {
        (level, index): root_from_leaves(hashes[index << level : (index + 1) << level])
        for level in range(6)
        for index in range(len(hashes) >> level)
    }
    assert nodes == want


def test_compact_range_append_returns_every_completed_node_leaf_first() -> None:
    tree = CompactRange()
    a, b, c, d = (leaf_hash(x) for x in (b"a", b"b", b"c", b"d"))
    for h in (a, b, c):
        tree.append(h)
    ab, cd = node_hash(a, b), node_hash(c, d)
    assert tree.append(d) == [(0, 3, d), (1, 1, cd), (2, 0, node_hash(ab, cd))]
    assert tree.size == 4
    assert tree.root() == node_hash(ab, cd)


def test_compact_range_from_nodes_continues_the_tree() -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(23)]
    nodes = _store(hashes[:13])
    tree = CompactRange.from_nodes(13, lambda *n: nodes[n])
    assert tree.size == 13
    assert tree.root() == root_from_leaves(hashes[:13])
    for h in hashes[13:]:
        tree.append(h)
    assert tree.root() == root_from_leaves(hashes)


def test_compact_range_of_empty_tree_has_empty_root() -> None:
    assert CompactRange().root() == EMPTY_ROOT


def test_compact_range_rejects_leaf_hash_of_wrong_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange().append(b"short")


def test_compact_range_rejects_hashes_that_do_not_fit_size() -> None:
    with pytest.raises(ValueError):
        CompactRange(3, [EMPTY_ROOT])


def test_root_nodes_decompose_size_largest_first() -> None:
    assert root_nodes(0) == []
    assert root_nodes(13) == [(3, 0), (2, 2), (0, 12)]


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (6, 5), (-1, 5)])
def test_inclusion_proof_request_outside_tree_is_value_error(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_nodes(index, size)


@pytest.mark.parametrize(("first", "second"), [(0, 0), (0, 5), (6, 5), (-1, 5)])
def test_consistency_proof_request_needs_0_lt_first_le_second(first: int, second: int) -> None:
    with pytest.raises(ValueError, match="0 < first <= second"):
        consistency_nodes(first, second)


def test_consistency_proof_between_equal_sizes_is_empty() -> None:
    assert consistency_proof(5, 5, lambda *n: pytest.fail("no node should be read")) == []


def test_inclusion_rejects_proof_with_trailing_hash() -> None:
    hashes = [leaf_hash(d) for d in LEAVES]
    proof = [bytes.fromhex(h) for h in INCLUSION_ANSWERS[(0, 8)]] + [hashes[0]]
    with pytest.raises(VerificationError, match="wrong proof size 4, want 3"):
        verify_inclusion(0, 8, hashes[0], proof, ROOTS[7])


def test_inclusion_rejects_proof_hash_of_wrong_length() -> None:
    proof = [bytes.fromhex(h) for h in INCLUSION_ANSWERS[(2, 3)]]
    with pytest.raises(VerificationError, match="proof hash 0 must be 32 bytes"):
        verify_inclusion(2, 3, leaf_hash(LEAVES[2]), [proof[0][:31]], ROOTS[2])


def test_inclusion_mismatch_names_expected_and_calculated_roots_in_hex() -> None:
    proof = [bytes.fromhex(h) for h in INCLUSION_ANSWERS[(2, 3)]]
    calculated = root_from_inclusion_proof(2, 3, leaf_hash(LEAVES[2]), proof)
    with pytest.raises(VerificationError) as info:
        verify_inclusion(2, 3, leaf_hash(LEAVES[2]), proof, ROOTS[0])
    assert calculated.hex() in str(info.value)
    assert ROOTS[0].hex() in str(info.value)


def test_consistency_from_empty_tree_is_rejected() -> None:
    with pytest.raises(VerificationError, match="empty tree"):
        verify_consistency(0, 3, EMPTY_ROOT, ROOTS[2], [])


def test_right_edge_is_the_last_subtree_of_a_level_as_stored_subtrees() -> None:
    assert right_edge(2, 12) == [(2, 2)]  # leaves 8-11: perfect
    assert right_edge(2, 13) == [(0, 12)]  # leaf 12 alone
    assert right_edge(3, 13) == [(2, 2), (0, 12)]  # leaves 8-12
    assert right_edge(4, 13) == root_nodes(13)  # the whole tree
    # Leaves 524,288 to 999,999: 475,712 = 2**18 + 2**17 + 2**16 + 2**14 + 2**9 + 2**6.
    assert right_edge(19, 1_000_000) == [
        (18, 2),
        (17, 6),
        (16, 14),
        (14, 60),
        (9, 1952),
        (6, 15624),
    ]


def test_inclusion_plan_names_where_the_right_edge_folds() -> None:
    # Leaf 1 of 5: its siblings are leaf 0, (1, 1) = leaves 2-3, and leaf 4 (the edge, alone).
    assert inclusion_plan(1, 5) == ([(0, 0), (1, 1), (0, 4)], 2, 1)
    # Leaf 0 of 7: leaf 1, (1, 1), then leaves 4-6 = (1, 2) and leaf 6, folded into one hash.
    assert inclusion_plan(0, 7) == ([(0, 1), (1, 1), (1, 2), (0, 6)], 2, 2)
    # The last leaf has only left siblings.
    assert inclusion_plan(6, 7) == ([(1, 2), (2, 0)], 0, 0)
    nodes = _store([leaf_hash(d) for d in LEAVES[:7]])
    plan, edge, count = inclusion_plan(0, 7)
    folded = inclusion_from_hashes([nodes[n] for n in plan], edge, count)
    assert folded == inclusion_proof(0, 7, lambda *n: nodes[n])
    assert folded[2] == node_hash(nodes[(1, 2)], nodes[(0, 6)])
