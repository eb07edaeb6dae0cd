"""Fetch the public conformance vectors into .vectors/, checked against tests/vectors.manifest.json.

    .venv/bin/python scripts/fetch_vectors.py                  # what `make vectors` runs
    .venv/bin/python scripts/fetch_vectors.py --base-url URL   # from a mirror (same layout)
    .venv/bin/python scripts/fetch_vectors.py --verify DIR     # check a copy against the manifest

Each file is read at its pinned commit from <base-url>/<owner>/<repository>/<commit>/<path>
(raw.githubusercontent.com by default; $REE_LEDGER_VECTORS_MIRROR overrides it) and must have
the SHA-256 the manifest gives. Two files are JSON built from upstream sources (Go's note tests,
the DSSE protocol and RFC 8032's test key): the sources are fetched, checked, and the files
rebuilt here byte for byte. Four (ct-argon2020/) are answers of a Certificate Transparency log,
not files in a repository: they are kept if already present with the right hash, and named at
the end otherwise. Everything lands in a staging directory that replaces the target only when
every file checked out: a failed run leaves the previous .vectors/ as it was, and exits 1 with a
one-line reason that names the file.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
MANIFEST = PROJECT / "tests" / "vectors.manifest.json"
TARGET = PROJECT / ".vectors"
MIRROR_ENV = "REE_LEDGER_VECTORS_MIRROR"
TIMEOUT = 60
WORKERS = 8


class Refused(Exception):
    """A file could not be fetched or does not match the manifest: the one-line reason."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def url_of(base: str, source: dict[str, str], path: str) -> str:
    quoted = urllib.parse.quote(path, safe="/")
    return f"{base.rstrip('/')}/{source['repository']}/{source['commit']}/{quoted}"


def download(url: str, name: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
            data: bytes = answer.read()
            return data
    except (urllib.error.URLError, OSError) as error:
        raise Refused(f"{name}: cannot fetch {url}: {error}") from None


def checked(data: bytes, want: str, name: str, origin: str) -> bytes:
    got = sha256(data)
    if got != want:
        raise Refused(f"{name}: SHA-256 {got} from {origin}, the manifest says {want}")
    return data


# --- the two files built from upstream sources -------------------------------------------


def _go_literal(source: str, pattern: str) -> str:
    """The Go string literal (interpreted "..." or raw `...`) that `pattern` captures."""
    match = re.search(pattern, source, re.S)
    if match is None:
        raise Refused(f"go-note: {pattern!r} not found in sumdb/note/note_test.go")
    literal = match.group(1)
    if literal.startswith("`"):
        return literal[1:-1]
    decoded: str = json.loads(literal)  # the literals used hold only \n escapes
    return decoded


def go_note(inputs: dict[str, bytes]) -> bytes:
    """signed-note/go-note-vectors.json from golang.org/x/mod's sumdb/note/note_test.go."""
    go = inputs["note_test"].decode("utf-8")
    vkey = _go_literal(go, r'peterKey := ("[^"]+")')
    text = _go_literal(go, r"func TestOpen\(.*?text := (`[^`]+`)")
    peter_sig = _go_literal(go, r'peterSig := ("[^"]+")')
    enoch_sig = _go_literal(go, r'enochSig := ("[^"]+")')
    name, key_hash, key = vkey.split("+")
    mangled_hash = f"{name}+{key_hash[:-1]}{chr(ord(key_hash[-1]) + 1)}+{key}"  # b[i]++
    document = {
        "source": "golang.org/x/mod sumdb/note note_test.go (TestSign, TestOpen, TestNewVerifier)"
        " and c2sp.org/signed-note",
        "sign": {
            "signer_key": _go_literal(go, r'func TestSign\(.*?skey := ("[^"]+")'),
            "text": text,
            "want_note": _go_literal(go, r"func TestSign\(.*?want := (`[^`]+`)"),
        },
        "open": {
            "verifier_keys": [vkey],
            "note": text + "\n" + peter_sig + enoch_sig,
            "want_text": text,
            "want_verified_signers": [name],
            "note_on_unknown": "the EnochRoot signature is by a key the verifier does not know:"
            " it must be ignored, not rejected",
        },
        "bad_verifier_keys": [
            _go_literal(go, r'badKey\(("[^"]+BADKEY==")\)'),
            _go_literal(go, r'badKey\(("PeterNeumann\+173116ae[^"]+")\)'),
            vkey[:-1],  # b[i:j], one of the truncations
            mangled_hash,
        ],
        "key_id_rule": "key_id = SHA-256(name || 0x0A || 0x01 || ed25519_public_key)[:4]",
    }
    return json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8")


# RFC 8032 section 7.1, TEST 1: the secret key and its public key.
RFC8032_TEST1_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_TEST1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def _pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _markdown_block(text: str, label: str) -> str:
    match = re.search(rf"{label}:\n\n```none\n(.*?)\n```", text, re.S)
    if match is None:
        raise Refused(f"dsse: no {label} example in protocol.md")
    return match.group(1)


def dsse(inputs: dict[str, bytes]) -> bytes:
    """dsse/dsse-vectors.json: the PAE example of the DSSE protocol, and an envelope signed
    with RFC 8032's test key (Ed25519 signatures are deterministic)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    protocol = inputs["protocol"].decode("utf-8")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_TEST1_SECRET))
    if key.public_key().public_bytes_raw().hex() != RFC8032_TEST1_PUBLIC:
        raise Refused("dsse: the RFC 8032 test key does not give its public key")
    payload_type, payload = "application/vnd.example+json", b'{"hello":"world"}'
    signed = _pae(payload_type, payload)
    example = {
        "payload_type": _markdown_block(protocol, "PAYLOAD_TYPE"),
        "payload_utf8": _markdown_block(protocol, "SERIALIZED_BODY"),
        "pae_utf8": _markdown_block(protocol, "PAE"),
    }
    document = {
        "source": "PAE example from secure-systems-lab/dsse protocol.md; signing key is"
        " RFC 8032 section 7.1 TEST 1 (Ed25519 is deterministic)",
        "pae_examples": [example],
        "ed25519_envelope": {
            "private_key_hex": RFC8032_TEST1_SECRET,
            "public_key_hex": RFC8032_TEST1_PUBLIC,
            "payload_type": payload_type,
            "payload_utf8": payload.decode(),
            "pae_hex": signed.hex(),
            "envelope": {
                "payloadType": payload_type,
                "payload": base64.b64encode(payload).decode(),
                "signatures": [{"keyid": "", "sig": base64.b64encode(key.sign(signed)).decode()}],
            },
        },
    }
    return json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8")


RECIPES: dict[str, Callable[[dict[str, bytes]], bytes]] = {"go-note": go_note, "dsse": dsse}


# --- fetching ------------------------------------------------------------------------------


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def selected(manifest: dict[str, Any], only: list[str] | None) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = manifest["files"]
    if not only:
        return files
    chosen = {name: f for name, f in files.items() if name.split("/", 1)[0] in only}
    unknown = set(only) - {name.split("/", 1)[0] for name in files}
    if unknown:
        raise Refused(f"--only: no vector directory {', '.join(sorted(unknown))}")
    return chosen


def fetch_one(manifest: dict[str, Any], base: str, name: str, entry: dict[str, Any]) -> bytes:
    """One file or input: downloaded at its pinned commit and checked."""
    url = url_of(base, manifest["sources"][entry["source"]], entry["path"])
    return checked(download(url, name), entry["sha256"], name, url)


def fetch_all(manifest: dict[str, Any], base: str, wanted: dict[str, Any]) -> dict[str, bytes]:
    """Every entry of `wanted` (name -> manifest entry), downloaded in parallel and checked; the
    first refusal cancels what has not started."""
    with ThreadPoolExecutor(WORKERS) as pool:
        jobs = {name: pool.submit(fetch_one, manifest, base, name, e) for name, e in wanted.items()}
        try:
            return {name: job.result() for name, job in jobs.items()}
        except Refused:
            pool.shutdown(cancel_futures=True)
            raise


def _kept(previous: Path, name: str, entry: dict[str, Any]) -> bytes | None:
    """The file as it is in the previous copy, if it is there with the right hash."""
    path = previous / name
    if path.is_file() and sha256(data := path.read_bytes()) == entry["sha256"]:
        return data
    return None


def build(
    manifest: dict[str, Any], base: str, chosen: dict[str, Any], previous: Path
) -> tuple[dict[str, bytes], list[str]]:
    """The bytes of every chosen file, checked (plus the files of `previous` that are not
    chosen and still check out); and the files to be obtained by hand that are missing."""
    files: dict[str, dict[str, Any]] = manifest["files"]
    inputs = {i: manifest["inputs"][i] for e in chosen.values() for i in e.get("inputs", [])}
    out = fetch_all(manifest, base, {n: e for n, e in chosen.items() if "source" in e})
    sources = fetch_all(manifest, base, inputs)
    missing = []
    for name, entry in files.items():
        if "derive" in entry and name in chosen:
            made = RECIPES[entry["derive"]](sources)
            out[name] = checked(made, entry["sha256"], name, f"the {entry['derive']} recipe")
        elif name not in out and (kept := _kept(previous, name, entry)) is not None:
            out[name] = kept
        elif "obtain" in entry and name in chosen:
            missing.append(name)
    return out, missing


def install(files: dict[str, bytes], target: Path) -> None:
    """Writes the files into a staging directory beside `target`, then puts it in its place:
    `target` holds either the previous set or the new one, never a mix or a partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.new-", dir=target.parent))
    try:
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        old = target.with_name(f"{target.name}.old-{os.getpid()}")
        if target.exists():
            target.rename(old)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def verify(manifest: dict[str, Any], directory: Path) -> list[str]:
    """What is wrong with a copy of the vectors: files missing, extra, or with another hash."""
    on_disk = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    files: dict[str, dict[str, Any]] = manifest["files"]
    wrong = [f"missing: {name}" for name in sorted(set(files) - on_disk)]
    wrong += [f"not in the manifest: {name}" for name in sorted(on_disk - set(files))]
    for name in sorted(on_disk & set(files)):
        got = sha256((directory / name).read_bytes())
        if got != files[name]["sha256"]:
            wrong.append(f"{name}: SHA-256 {got}, the manifest says {files[name]['sha256']}")
    return wrong


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--into", type=Path, default=TARGET, help="default: .vectors/")
    parser.add_argument("--base-url", help=f"a mirror; default ${MIRROR_ENV} or GitHub's raw host")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--only", nargs="+", metavar="DIR", help="only these vector directories")
    parser.add_argument("--verify", type=Path, metavar="DIR", help="check DIR; fetch nothing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    manifest = load_manifest(args.manifest)
    if args.verify:
        wrong = verify(manifest, args.verify)
        for line in wrong:
            print(f"fetch_vectors: {args.verify}: {line}", file=sys.stderr)
        return 1 if wrong else 0
    base = args.base_url or os.environ.get(MIRROR_ENV) or manifest["base_url"]
    try:
        chosen = selected(manifest, args.only)
        data, missing = build(manifest, base, chosen, args.into)
        install(data, args.into)
    except Refused as refused:
        print(f"fetch_vectors: {refused}; nothing was changed in {args.into}", file=sys.stderr)
        return 1
    print(f"fetch_vectors: {len(data)} files checked against {args.manifest.name} in {args.into}")
    if missing:
        print(
            f"fetch_vectors: {len(missing)} files are not in any repository and were not fetched"
            f" ({', '.join(missing)}): they are answers of a Certificate Transparency log (see"
            f" the manifest); copy them from any copy of the vectors (e.g. ../shared/vectors)"
            f" into {args.into} and run this again, which checks them; until then the tests"
            " that read them are skipped"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
