"""`keygen` and `sign`: a participant's key pair and signed envelopes."""

import json
from pathlib import Path

import typer

from ledger.cli.context import fail, one_line_errors
from ledger.home import read_private_key, write_private_key
from ledger.tlog import keys
from ledger.tlog.encoding import b64encode, canonical, parse_json
from ledger.tlog.envelope import sign_envelope
from ledger.tlog.errors import EncodingError
from ledger.tlog.key_files import public_key_from_file


@one_line_errors
def keygen(
    out: Path = typer.Argument(..., help="private key file to write (PKCS#8 PEM, 0600)"),
) -> None:
    """Make a participant key pair: OUT (private) and OUT.pub (base64 raw public key)."""
    key = keys.generate_private_key()
    write_private_key(out, key)
    public = b64encode(keys.raw_public_key(key))
    out.with_name(out.name + ".pub").write_text(public + "\n")
    print(public)


def read_public_key(path: Path) -> bytes:
    """The Ed25519 public key in a file, in any form `key_files` takes; the only reader of one."""
    try:
        return public_key_from_file(path.read_bytes())
    except EncodingError as exc:
        raise EncodingError(f"{path}: {exc}") from exc


@one_line_errors
def sign(
    event: Path = typer.Argument(..., help="event JSON file (any formatting; integers only)"),
    key: Path = typer.Option(..., "--key", help="private key PEM"),
    keyid: str = typer.Option(None, "--keyid", help="default: <actor>/<key fingerprint>"),
) -> None:
    """Print the DSSE envelope of EVENT signed with KEY; the payload is its RFC 8785 form."""
    obj = parse_json(event.read_bytes())
    if not isinstance(obj, dict):
        fail(f"{event}: an event is a JSON object")
    private = read_private_key(key)
    if keyid is None:
        actor = obj.get("actor")
        if not isinstance(actor, str):
            fail(f"{event}: no actor field to derive the keyid from; pass --keyid")
        keyid = keys.key_id(actor, keys.raw_public_key(private))
    envelope = sign_envelope(canonical(obj), private, keyid)
    print(json.dumps(envelope.to_json(), indent=2))


def register(app: typer.Typer) -> None:
    app.command()(keygen)
    app.command()(sign)
