"""docs/protocol.md's worked example is what scripts/docs_example.py generates, verbatim.

Pure and fast: no database, no server. The independent checks at the end recompute the
contract's hashes and the signature with hashlib and pyca/cryptography alone, so the example
(and the code that made it) cannot drift from DESIGN.md §3–§4 unnoticed.
"""

import base64
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "docs_example.py"
DOC = ROOT / "docs" / "protocol.md"
PAYLOAD_TYPE = b"application/vnd.ree-ledger.event.v1+json"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_example", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("docs_example", module)
    spec.loader.exec_module(module)
    return module


GEN = _load()
EXAMPLE = GEN.build()
VALUES: list[tuple[str, str]] = GEN.values(EXAMPLE)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize(("label", "value"), VALUES, ids=[label for label, _ in VALUES])
def test_every_generated_value_is_in_the_doc(doc: str, label: str, value: str) -> None:
    assert value in doc, (
        f"docs/protocol.md lacks the {label}; run `.venv/bin/python scripts/docs_example.py "
        "--update` and review the diff"
    )


def test_the_generated_section_is_pasted_whole(doc: str) -> None:
    assert GEN.generated_section(EXAMPLE) in doc, (
        "the generated section of docs/protocol.md differs from the script's output; run "
        "`.venv/bin/python scripts/docs_example.py --update`"
    )


def test_generation_is_deterministic() -> None:
    assert GEN.markdown(GEN.build()) == GEN.markdown(EXAMPLE)


def test_participant_key_is_rfc8032_test_1() -> None:
    assert EXAMPLE.participant.public.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )


def test_entries_follow_the_contract_independently() -> None:
    """PAE, signature, event_hash, leaf bytes and leaf_hash, without the project's code.

    Sorted compact json.dumps equals RFC 8785 here because the example holds only ASCII
    strings and integers.
    """
    signers = [EXAMPLE.operator.public, EXAMPLE.participant.public]
    for entry, public in zip(EXAMPLE.entries, signers, strict=True):
        envelope = json.loads(entry.leaf_bytes)
        assert list(envelope) == ["payload", "payloadType", "signatures"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        assert payload == json.dumps(entry.event, sort_keys=True, separators=(",", ":")).encode()
        pae = b"DSSEv1 %d %s %d %s" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE, len(payload), payload)
        assert pae == entry.pae
        [signature] = envelope["signatures"]
        Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(signature["sig"]), pae)
        expected_keyid = hashlib.sha256(public).hexdigest()[:16]
        assert signature["keyid"] == f"{entry.event['actor']}/{expected_keyid}"
        assert entry.event_hash == hashlib.sha256(payload).hexdigest()
        compact = json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
        assert compact == entry.leaf_bytes
        assert entry.leaf_hash == hashlib.sha256(b"\x00" + entry.leaf_bytes).digest()


def test_tree_and_checkpoint_follow_the_contract_independently() -> None:
    leaf0, leaf1 = (entry.leaf_hash for entry in EXAMPLE.entries)
    root = hashlib.sha256(b"\x01" + leaf0 + leaf1).digest()
    assert EXAMPLE.root1 == leaf0
    assert EXAMPLE.root2 == root
    assert EXAMPLE.inclusion_1 == [leaf0]
    assert EXAMPLE.consistency_1_2 == [leaf1]
    origin = "ree-ledger.local/log"
    body, signature_line = EXAMPLE.note2.split("\n\n")
    assert body + "\n" == f"{origin}\n2\n{base64.b64encode(root).decode()}\n"
    name, stamp = signature_line.removeprefix("\u2014 ").rstrip("\n").split(" ")
    assert name == origin
    raw = base64.b64decode(stamp, validate=True)
    log_public = EXAMPLE.log.public
    key_hash = hashlib.sha256(origin.encode() + b"\n\x01" + log_public).digest()[:4]
    assert raw[:4] == key_hash
    Ed25519PublicKey.from_public_bytes(log_public).verify(raw[4:], (body + "\n").encode())
    typed_key = base64.b64encode(b"\x01" + log_public).decode()
    assert f"{origin}+{key_hash.hex()}+{typed_key}" == EXAMPLE.log_vkey
