"""Public key files as people have them: what openssl, ssh-keygen and `keygen` write is read,
and private keys, other algorithms and raw bytes are refused with the reason."""

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

from ledger.tlog import keys
from ledger.tlog.encoding import b64encode
from ledger.tlog.errors import EncodingError
from ledger.tlog.key_files import public_key_from_file

PEM = serialization.Encoding.PEM
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PKCS8 = serialization.PrivateFormat.PKCS8
OPENSSL = shutil.which("openssl")


def openssl_pair(tmp_path: Path, *genpkey: str) -> tuple[bytes, bytes]:
    """(private PEM, public PEM) from `openssl genpkey` and `openssl pkey -pubout`."""
    assert OPENSSL is not None
    private = tmp_path / "key.pem"
    subprocess.run([OPENSSL, "genpkey", *genpkey, "-out", str(private)], check=True)
    public = subprocess.run(
        [OPENSSL, "pkey", "-in", str(private), "-pubout"], check=True, capture_output=True
    ).stdout
    return private.read_bytes(), public


def _spki(private: Any) -> bytes:
    public: bytes = private.public_key().public_bytes(PEM, SPKI)
    return public


def _pkcs8(private: Any) -> bytes:
    pem: bytes = private.private_bytes(PEM, PKCS8, serialization.NoEncryption())
    return pem


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_what_openssl_pkey_pubout_writes_is_read(tmp_path: Path) -> None:
    private_pem, public_pem = openssl_pair(tmp_path, "-algorithm", "ed25519")
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    private = keys.private_key_from_pem(private_pem)
    assert public_key_from_file(public_pem) == keys.raw_public_key(private)


def test_spki_pem_base64_and_ssh_ed25519_give_the_same_key() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    raw = keys.raw_public_key(private)
    ssh = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    for data in (_spki(private), (b64encode(raw) + "\n").encode(), ssh + b" me@host\n"):
        assert public_key_from_file(data) == raw


def _ed_private() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "pkcs8-private": (lambda: _pkcs8(_ed_private()), "a private key (PRIVATE KEY)"),
    "encrypted-private": (
        lambda: _ed_private().private_bytes(
            PEM, PKCS8, serialization.BestAvailableEncryption(b"pw")
        ),
        "a private key (ENCRYPTED PRIVATE KEY)",
    ),
    "openssh-private": (
        lambda: _ed_private().private_bytes(
            PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        ),
        "ssh-keygen -y -f FILE",
    ),
    "rsa-spki": (
        lambda: _spki(rsa.generate_private_key(65537, 2048)),
        "an RSA-2048 key, not Ed25519",
    ),
    "rsa-pkcs1": (
        lambda: (
            rsa.generate_private_key(65537, 2048)
            .public_key()
            .public_bytes(PEM, serialization.PublicFormat.PKCS1)
        ),
        "an RSA key (PKCS#1), not Ed25519",
    ),
    "ec-p256": (
        lambda: _spki(ec.generate_private_key(ec.SECP256R1())),
        "an EC key on secp256r1, not Ed25519",
    ),
    "x25519": (lambda: _spki(x25519.X25519PrivateKey.generate()), "an X25519 key"),
    "ssh-rsa": (
        lambda: (
            rsa.generate_private_key(65537, 2048)
            .public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        ),
        "an RSA-2048 key, not Ed25519",
    ),
    "raw-32-binary": (lambda: b"\x80" + bytes(31), "32 bytes of binary, which may as well be"),
    "base64-64-bytes": (
        lambda: b64encode(_ed_private().private_bytes_raw() + bytes(32)).encode(),
        "64 bytes, the size of an Ed25519 private key",
    ),
    "base64-16-bytes": (lambda: b64encode(bytes(16)).encode(), "32 bytes, this is 16"),
    "garbage": (lambda: b"not a key at all\n", "neither PEM, OpenSSH nor base64"),
    "empty": (lambda: b"\n", "the file is empty"),
    "two-pem-blocks": (
        lambda: _spki(_ed_private()) + _spki(_ed_private()),
        "2 PEM blocks, want exactly one public key",
    ),
    "certificate-label": (
        lambda: b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "a PEM 'CERTIFICATE' block, not a public key",
    ),
    "broken-spki": (
        lambda: b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "a PUBLIC KEY block that does not parse",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_anything_but_an_ed25519_public_key_is_refused_with_the_reason(case: str) -> None:
    make, reason = REFUSED[case]
    with pytest.raises(EncodingError) as refused:
        public_key_from_file(make())
    assert reason in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
@pytest.mark.parametrize(
    ("genpkey", "reason"),
    [
        (("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"), "an RSA-2048 key"),
        (("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"), "an EC key on secp256r1"),
        (("-algorithm", "X25519"), "an X25519 key"),
        (("-algorithm", "ED448"), "an Ed448 key"),
    ],
)
def test_other_algorithms_from_openssl_are_refused(
    tmp_path: Path, genpkey: tuple[str, ...], reason: str
) -> None:
    private_pem, public_pem = openssl_pair(tmp_path, *genpkey)
    for data, said in ((public_pem, reason), (private_pem, "a private key (PRIVATE KEY)")):
        with pytest.raises(EncodingError, match=re.escape(said)):
            public_key_from_file(data)
