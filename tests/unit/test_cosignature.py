"""c2sp.org/tlog-cosignature (Ed25519 cosignature/v1): known answers, a real witness, tampering."""

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.cosignature import (
    WitnessKey,
    cosign,
    cosigned_message,
    parse_witness_vkey,
    verify_cosignatures,
    witness_key_id,
    witness_vkey,
)
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import parse_verifier_key, raw_public_key, verifier_key
from ledger.tlog.note import open_note, sign_note

# The checkpoint of the spec's examples (c2sp.org/tlog-witness, c2sp.org/tlog-cosignature).
BODY = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
TIME = 1679315147  # the spec's example time line
NAME = "witness.example.com/w1"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
PUBLIC = raw_public_key(KEY)
# Computed once with hashlib and pyca Ed25519 alone (as _independent_line below does), from
# the spec's words: key id = SHA-256(name || 0x0A || 0x04 || key)[:4], the stamp key id ||
# u64 BE time || signature over "cosignature/v1\ntime <t>\n" || body.
KAT_VKEY = "witness.example.com/w1+969980cf+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X"
KAT_LINE = (
    "— witness.example.com/w1 lpmAzwAAAABkGFDL6ade/xdmW0GepsICyPher/bBsso0aCocxkD4MgnQ2J3N/61Cxr"
    "ucC0uO4wzUWe3K7XvjkEYtewKXIfP/U7l4Cw==\n"
)

# A real witness (remora.n621.de) and its cosignature of a checkpoint of the
# arche2025h1.staging.ct.transparency.dev log, as published beside that log's own signatures:
# byte compatibility with a deployed witness, not with ourselves.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
ARCHE_BODY = (
    "arche2025h1.staging.ct.transparency.dev\n1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
)
ARCHE_SIGNATURES = (
    "— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzb"
    "C3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
    "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9s"
    "XTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
)
ARCHE_LOG_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)


def _independent_line(body: bytes, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line, written from the spec with hashlib and pyca only."""
    public = key.public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body
    stamp = key_id + timestamp.to_bytes(8, "big") + key.sign(message)
    return f"\u2014 {name} {base64.b64encode(stamp).decode()}\n"


def _note(body: bytes, *lines: str) -> str:
    return body.decode() + "\n" + "".join(lines)


WITNESS = parse_witness_vkey(KAT_VKEY)


def test_vkey_and_line_match_known_answers() -> None:
    assert witness_vkey(NAME, PUBLIC) == KAT_VKEY
    assert cosign(BODY, NAME, KEY, TIME) == KAT_LINE
    assert _independent_line(BODY, NAME, KEY, TIME) == KAT_LINE


@pytest.mark.parametrize("timestamp", [1, TIME, 2**32, 2**63 - 1])
def test_cosign_matches_independent_construction(timestamp: int) -> None:
    body = b"ree-ledger.local/log\n7\n" + base64.b64encode(bytes(32)) + b"\nextension line\n"
    assert cosign(body, NAME, KEY, timestamp) == _independent_line(body, NAME, KEY, timestamp)


def test_signed_message_is_the_spec_example() -> None:
    assert cosigned_message(BODY, TIME) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_real_witness_cosignature_verifies() -> None:
    remora = parse_witness_vkey(REMORA_VKEY)
    assert remora.key_id == bytes.fromhex("da77ade7")
    assert witness_key_id(remora.name, remora.public_key_raw) == remora.key_id
    note = ARCHE_BODY + "\n" + ARCHE_SIGNATURES
    assert verify_cosignatures(note, [remora]) == {"remora.n621.de": 1779573024}
    # The same note opens with the log's plain signed-note key, the cosignature ignored.
    assert open_note(note, [parse_verifier_key(ARCHE_LOG_VKEY)]) == ARCHE_BODY


def test_real_witness_cosignature_of_another_size_is_refused() -> None:
    note = ARCHE_BODY.replace("1432088532", "1432088533") + "\n" + ARCHE_SIGNATURES
    with pytest.raises(VerificationError, match=re.escape("invalid cosignature by remora.n621.de")):
        verify_cosignatures(note, [parse_witness_vkey(REMORA_VKEY)])


def test_round_trip_with_log_signature_and_two_witnesses() -> None:
    log_key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    signed = sign_note(BODY.decode(), "example.com/behind-the-sofa", log_key)
    other_key = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    other = parse_witness_vkey(witness_vkey("w2.example", raw_public_key(other_key)))
    note = signed + cosign(BODY, NAME, KEY, TIME) + cosign(BODY, "w2.example", other_key, 5)
    assert verify_cosignatures(note, [WITNESS, other]) == {NAME: TIME, "w2.example": 5}
    assert verify_cosignatures(note, [other]) == {"w2.example": 5}
    assert verify_cosignatures(note, []) == {}
    log_vkey = verifier_key("example.com/behind-the-sofa", raw_public_key(log_key))
    assert open_note(note, [parse_verifier_key(log_vkey)]) == BODY.decode()


def test_later_of_two_cosignatures_by_one_witness_is_returned() -> None:
    note = _note(BODY, cosign(BODY, NAME, KEY, 200), cosign(BODY, NAME, KEY, 100))
    assert verify_cosignatures(note, [WITNESS]) == {NAME: 200}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body: body.replace(b"20852163", b"20852164"),
        lambda body: body + b"an extension line\n",
        lambda body: body.replace(b"CsUY", b"DsUY"),
    ],
    ids=["size", "extension", "root"],
)
def test_cosignature_covers_the_whole_body(tamper: object) -> None:
    assert callable(tamper)
    note = _note(tamper(BODY), cosign(BODY, NAME, KEY, TIME))
    with pytest.raises(VerificationError, match=re.escape(f"invalid cosignature by {NAME}")):
        verify_cosignatures(note, [WITNESS])


def test_cosignature_covers_the_timestamp() -> None:
    stamp = bytearray(base64.b64decode(KAT_LINE.split(" ")[2]))
    stamp[11] ^= 1  # the last byte of the time
    line = f"\u2014 {NAME} {base64.b64encode(bytes(stamp)).decode()}\n"
    with pytest.raises(VerificationError, match="invalid cosignature"):
        verify_cosignatures(_note(BODY, line), [WITNESS])


def test_plain_ed25519_signature_by_the_same_key_is_not_a_cosignature() -> None:
    # The same key signing as a 0x01 signed-note key has another key id: not counted.
    note = sign_note(BODY.decode(), NAME, KEY)
    assert verify_cosignatures(note, [WITNESS]) == {}


def test_same_name_other_key_is_ignored() -> None:
    stranger = Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32)
    assert verify_cosignatures(_note(BODY, cosign(BODY, NAME, stranger, TIME)), [WITNESS]) == {}


def test_truncated_cosignature_by_a_known_key_is_refused() -> None:
    stamp = base64.b64decode(KAT_LINE.split(" ")[2])[:-1]
    line = f"\u2014 {NAME} {base64.b64encode(stamp).decode()}\n"
    with pytest.raises(VerificationError, match="want 76"):
        verify_cosignatures(_note(BODY, line), [WITNESS])


@pytest.mark.parametrize(
    "note",
    [
        BODY.decode(),  # no signatures
        BODY.decode() + "\n",
        BODY.decode() + "\n— w1 not-base64\n",
        BODY.decode() + "\n" + KAT_LINE.rstrip("\n"),
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(VerificationError):
        verify_cosignatures(note, [WITNESS])


def test_parse_witness_vkey_fields() -> None:
    assert WitnessKey(name=NAME, key_id=bytes.fromhex("969980cf"), public_key_raw=PUBLIC) == WITNESS
    assert parse_witness_vkey(KAT_VKEY.replace("969980cf", "969980CF")) == WITNESS


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        ("witness.example.com/w1+969980cf", "malformed"),
        ("witness.example.com/w1+969980c+BCms", "malformed"),
        ("+969980cf+" + KAT_VKEY.split("+")[2], "invalid witness name"),
        ("w 1+969980cf+" + KAT_VKEY.split("+")[2], "invalid witness name"),
        ("witness.example.com/w1+969980cf+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3", "base64"),
        ("witness.example.com/w1+00000000+" + KAT_VKEY.split("+")[2], "key id does not match"),
        ("witness.example.com/w2+969980cf+" + KAT_VKEY.split("+")[2], "key id does not match"),
        (
            "witness.example.com/w1+969980cf+" + base64.b64encode(b"\x04" + PUBLIC[:31]).decode(),
            "32 bytes",
        ),
    ],
)
def test_parse_witness_vkey_refuses(vkey: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_witness_vkey(vkey)


def test_log_key_is_not_a_witness_key() -> None:
    with pytest.raises(EncodingError, match=r"0x01 is a plain Ed25519 signer"):
        parse_witness_vkey(verifier_key(NAME, PUBLIC))


@pytest.mark.parametrize("timestamp", [0, -1, 2**63])
def test_cosign_refuses_timestamps_out_of_range(timestamp: int) -> None:
    with pytest.raises(EncodingError):
        cosign(BODY, NAME, KEY, timestamp)


def test_cosign_refuses_body_without_final_newline() -> None:
    with pytest.raises(EncodingError, match="newline"):
        cosign(BODY.rstrip(b"\n"), NAME, KEY, TIME)
