"""A client written only from DESIGN.md registers with the CLI, posts a chain and verifies all.

The client (tests/e2e/independent_client.py) shares no code with the ledger: its own Ed25519
keys (PyNaCl), RFC 8785, DSSE, signed-note and RFC 9162 verifiers. The ledger runs as real
subprocesses: `ree-ledger init`, `participant add`, `serve`.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.independent_client import (
    Checkpoint,
    IndependentClient,
    Receipt,
    Signer,
    VerificationError,
    b64decode,
    b64encode,
    envelope_leaf_hash,
    verify_checkpoint,
    verify_consistency,
    verify_envelope,
    verify_inclusion,
)

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0
MILLION = 1_000_000

# Bastnaesite ore, elemental ppm: ~5 % REE with a light-REE pattern (DOMAIN §1, §3).
ORE_REE = {"La": 14000, "Ce": 24500, "Pr": 2250, "Nd": 8000, "Sm": 500, "Eu": 75, "Gd": 200}
ORE_REE |= {"Y": 100}
ORE = ORE_REE | {"Fe": 120000, "Ca": 150000, "Ba": 40000, "F": 6000, "Si": 100000}
# The flotation concentrate keeps the ore's REE pattern at ten times the grade.
CONCENTRATE = {el: ppm * 10 for el, ppm in ORE_REE.items()}
CONCENTRATE |= {"Fe": 30000, "Ca": 60000, "Ba": 20000, "F": 60000, "Si": 10000}


@dataclass(frozen=True)
class Cast:
    mine: Signer
    processor: Signer
    magnets: Signer
    customs: Signer
    authority: Signer  # China's licences and quotas (DESIGN §9.1)

    def all(self) -> list[Signer]:
        return [self.mine, self.processor, self.magnets, self.customs, self.authority]


@dataclass
class Chain:
    """Posts events with unique ids, dated one minute apart from `clock` on."""

    client: IndependentClient
    tag: str
    clock: datetime
    receipts: list[Receipt] = field(default_factory=list)
    count: int = 0

    def post(self, signer: Signer, kind: str, **fields: Any) -> Receipt:
        self.count += 1
        self.clock += timedelta(minutes=1)
        event = {
            "type": kind,
            "id": f"{self.tag}-ev-{self.count}",
            "actor": signer.participant,
            "time": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
            **fields,
        }
        receipt = self.client.post(signer, event)
        self.receipts.append(receipt)
        return receipt


# --- the ledger as subprocesses ------------------------------------------------------------


def _cli() -> list[str]:
    """The installed `ree-ledger` script next to this interpreter, else its entry point."""
    script = Path(sys.executable).with_name("ree-ledger")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from ledger.cli.main import main; main()"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*_cli(), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"ree-ledger {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def _serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """`ree-ledger serve` on a free loopback port until /healthz answers; stopped after."""
    port = _free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [*_cli(), "serve", "--port", str(port)], env=env, cwd=REPO, stdout=out, stderr=out
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert server.poll() is None, f"serve exited {server.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no /healthz:\n{log.read_text()}"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _register(env: dict[str, str], keys_dir: Path, signer: Signer, name: str, *roles: str) -> None:
    public_key_file = keys_dir / f"{signer.participant}.pub"
    public_key_file.write_text(b64encode(signer.public_key) + "\n")
    role_args = [arg for role in roles for arg in ("--role", role)]
    options = ["--name", name, "--country", "CN", *role_args, "--public-key", str(public_key_file)]
    _run(env, "participant", "add", signer.participant, *options)


# --- a mine-to-export chain -------------------------------------------------------------


def _output(
    lot: str, product: str, grams_in: dict[str, int], metal_ppm: int, recovery_pct: int = 97
) -> dict[str, Any]:
    """A lot holding `recovery_pct` % of each element of `grams_in`; they make `metal_ppm` of it."""
    total_in = sum(grams_in.values())
    mass_g = total_in * recovery_pct * MILLION // (100 * metal_ppm)
    composition = {el: metal_ppm * grams // total_in for el, grams in grams_in.items()}
    if product == "oxide":
        composition["O"] = MILLION - metal_ppm
    return {"id": lot, "product": product, "mass_g": mass_g, "composition_ppm": composition}


def _grams(lot: dict[str, Any], elements: list[str]) -> dict[str, int]:
    return {el: lot["mass_g"] * lot["composition_ppm"][el] // MILLION for el in elements}


def _ship_and_receive(chain: Chain, sender: Signer, receiver: Signer, lot: dict[str, Any]) -> None:
    lots = [{"lot": lot["id"], "mass_g": lot["mass_g"]}]
    transport = {"mode": "road", "document": f"CMR-{chain.tag}-{chain.count}"}
    chain.post(sender, "lot.ship", to=receiver.participant, lots=lots, transport=transport)
    chain.post(receiver, "lot.receive", **{"from": sender.participant}, lots=lots)


def _transform(
    chain: Chain, signer: Signer, process: str, lot: dict[str, Any], *outputs: dict[str, Any]
) -> None:
    inputs = [{"lot": lot["id"], "mass_g": lot["mass_g"]}]
    chain.post(signer, "lot.transform", process=process, inputs=inputs, outputs=list(outputs))


def _post_mine_to_export_chain(chain: Chain, cast: Cast) -> str:
    """The mine's quota, the exporter's licence, then ore to released magnets: fourteen
    events; returns the magnet lot id."""
    t = chain.tag
    year = chain.clock.year
    quota = {"id": f"CN-RQ-{t}", "holder": cast.mine.participant, "year": year}
    chain.post(cast.authority, "quota.issue", quota={**quota, "reo_mass_g": 100 * MILLION})
    licence = {
        "id": f"MOFCOM-EXP-2026-{t}",
        "holder": cast.magnets.participant,
        "elements": ["Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"],
        "destination": ["DE"],
        "max_mass_g": MILLION,
        "valid_from": f"{year}-01-01T00:00:00Z",
        "valid_until": f"{year + 1}-12-31T23:59:59Z",
    }
    chain.post(cast.authority, "licence.issue", licence=licence)
    ore = {"id": f"ORE-{t}", "product": "ore", "mass_g": 1_000 * MILLION, "composition_ppm": ORE}
    site = {"id": "pit-north", "name": "North Pit", "country": "CN"}
    chain.post(cast.mine, "lot.extract", lot=ore, site=site, deposit="bastnaesite")
    concentrate = {"id": f"CON-{t}", "product": "concentrate", "mass_g": 85 * MILLION}
    concentrate["composition_ppm"] = CONCENTRATE  # 85 % of every element of the ore
    _transform(chain, cast.mine, "beneficiation", ore, concentrate)
    _ship_and_receive(chain, cast.mine, cast.processor, concentrate)
    ree = _grams(concentrate, list(ORE_REE))
    ndpr_oxide = _output(f"NDPR-OX-{t}", "oxide", {e: ree[e] for e in ("Nd", "Pr")}, 850000)
    _transform(
        chain,
        cast.processor,
        "separation",
        concentrate,
        _output(f"LA-OX-{t}", "oxide", {"La": ree["La"]}, 852700),
        _output(f"CE-OX-{t}", "oxide", {"Ce": ree["Ce"]}, 814100),
        ndpr_oxide,
        _output(f"SEG-OX-{t}", "oxide", {e: ree[e] for e in ("Sm", "Eu", "Gd", "Y")}, 860000),
    )
    metal = _output(f"NDPR-M-{t}", "metal", _grams(ndpr_oxide, ["Nd", "Pr"]), 995000)
    _transform(chain, cast.processor, "reduction", ndpr_oxide, metal)
    _ship_and_receive(chain, cast.processor, cast.magnets, metal)
    ndpr = _grams(metal, ["Nd", "Pr"])  # Fe and B come from untracked inputs (DOMAIN §2)
    alloy = _output(f"ALLOY-{t}", "alloy", ndpr, 300000, recovery_pct=98)
    alloy["composition_ppm"] |= {"Fe": 690000, "B": 10000}
    _transform(chain, cast.magnets, "alloying", metal, alloy)
    magnet = {**alloy, "id": f"MAG-{t}", "product": "magnet", "mass_g": alloy["mass_g"] * 98 // 100}
    _transform(chain, cast.magnets, "sintering", alloy, magnet)
    declaration = {
        "id": f"DECL-{t}",
        "lots": [magnet["id"]],
        "hs_code": "850511",
        "description": "Sintered NdFeB permanent magnets, grade N42",
        "declared_mass_g": magnet["mass_g"],
        "declared_composition_ppm": magnet["composition_ppm"],
        "destination": "DE",
        "licence": f"MOFCOM-EXP-2026-{t}",
    }
    chain.post(cast.magnets, "export.declare", declaration=declaration)
    chain.post(cast.customs, "customs.decide", declaration=declaration["id"], decision="release")
    return str(magnet["id"])


# --- the test -----------------------------------------------------------------------------


def _flip(data: bytes, bit: int = 0) -> bytes:
    """`data` with one bit of its first byte flipped."""
    return bytes([data[0] ^ (1 << bit), *data[1:]])


def _verify_registrations(
    client: IndependentClient, cast: Cast, checkpoint: Checkpoint, token: str
) -> None:
    """Entries 0..4 are the CLI's registrations: operator-signed, in the tree, our keys."""
    for index, signer in enumerate(cast.all()):
        envelope = client.verify_entry(index, checkpoint, token)
        payload = json.loads(verify_envelope(envelope, "operator", client.operator_key))
        assert payload["type"] == "participant.register", payload
        assert payload["actor"] == "operator", payload
        (key,) = payload["participant"]["keys"]
        assert key == {"keyid": signer.keyid, "public_key": b64encode(signer.public_key)}


def _assert_proofs_reject_flipped_bits(
    client: IndependentClient, index: int, first: Checkpoint, last: Checkpoint, token: str
) -> None:
    """The proof verifiers fail on one flipped bit: they cannot pass vacuously."""
    leaf = envelope_leaf_hash(client.verify_entry(index, last, token))
    proof = client.get_json("/v1/proofs/inclusion", index=index, size=last.size)
    path = [b64decode(h) for h in proof["hashes"]]
    assert len(path) > 1, "a proof this short could not show tampering"
    verify_inclusion(leaf, index, last.size, path, last.root)
    for bad_leaf, bad_path, bad_root in [
        (leaf, [_flip(path[0]), *path[1:]], last.root),
        (leaf, path, _flip(last.root)),
        (_flip(leaf), path, last.root),
        (leaf, path[:-1], last.root),
        (leaf, [*path, path[-1]], last.root),
    ]:
        with pytest.raises(VerificationError):
            verify_inclusion(bad_leaf, index, last.size, bad_path, bad_root)

    proof = client.get_json("/v1/proofs/consistency", first=first.size, second=last.size)
    path = [b64decode(h) for h in proof["hashes"]]
    verify_consistency(first.size, last.size, first.root, last.root, path)
    for first_root, bad_path, last_root in [
        (first.root, [_flip(path[0]), *path[1:]], last.root),
        (first.root, [*path[:-1], _flip(path[-1])], last.root),
        (_flip(first.root), path, last.root),
        (first.root, path, _flip(last.root)),
    ]:
        with pytest.raises(VerificationError):
            verify_consistency(first.size, last.size, first_root, last_root, bad_path)


def _assert_checkpoint_rejects_flipped_bits(client: IndependentClient, note: str) -> None:
    """One flipped bit in the signature, or in the root it covers, fails the checkpoint."""
    checkpoint = verify_checkpoint(note, client.log_key, client.origin)
    body, _, signature_line = note.rstrip("\n").rpartition("\n")
    prefix, _, blob_b64 = signature_line.rpartition(" ")
    blob = b64decode(blob_b64)
    bad_signature = f"{body}\n{prefix} {b64encode(blob[:4] + _flip(blob[4:], 3))}\n"
    root = b64encode(checkpoint.root)
    bad_root = note.replace(root, b64encode(_flip(checkpoint.root)), 1)
    for forged in (bad_signature, bad_root):
        with pytest.raises(VerificationError):
            verify_checkpoint(forged, client.log_key, client.origin)


def _register_cast(env: dict[str, str], keys_dir: Path) -> Cast:
    cast = Cast(
        Signer("north-mine"),
        Signer("eastriver-sep"),
        Signer("lotus-magnets"),
        Signer("customs-tianjin"),
        Signer("cn-mofcom"),
    )
    _register(env, keys_dir, cast.mine, "North Ridge Rare Earth Mine", "mine")
    _register(env, keys_dir, cast.processor, "East River Separation & Metals", "processor")
    _register(env, keys_dir, cast.magnets, "Lotus Magnet Works", "processor", "exporter")
    _register(env, keys_dir, cast.customs, "Tianjin Customs", "customs")
    _register(env, keys_dir, cast.authority, "Ministry of Commerce", "authority")
    return cast


def test_independent_client_registers_posts_chain_and_verifies_every_answer(
    database_url: str, tmp_path: Path
) -> None:
    home, keys_dir = tmp_path / "home", tmp_path / "keys"
    keys_dir.mkdir()
    env = {**os.environ, "REE_LEDGER_HOME": str(home), "REE_LEDGER_DATABASE_URL": database_url}
    _run(env, "init")
    cast = _register_cast(env, keys_dir)

    with _serving(env, tmp_path / "serve.log") as base_url:
        client = IndependentClient(base_url)  # reads origin, log key, operator key: /v1/log
        try:
            registered = client.get_json("/v1/log")["size"]
            assert registered == len(cast.all())
            chain = Chain(client, uuid.uuid4().hex[:8], datetime.now(UTC) - timedelta(hours=1))
            magnet = _post_mine_to_export_chain(chain, cast)  # every 201 answer verified
            receipts = chain.receipts
            assert [r.index for r in receipts] == list(range(registered, registered + 14))
            assert [r.flags for r in receipts] == [[]] * 14, "a clean chain raised flags"
            first, last = receipts[0].checkpoint, receipts[-1].checkpoint
            assert first.size < last.size
            client.verify_consistency(first, last)
            for older, newer in itertools.pairwise(r.checkpoint for r in receipts):
                client.verify_consistency(older, newer)
            current = client.checkpoint()  # GET /v1/checkpoint, verified
            assert current == last
            client.verify_consistency(last, current)
            with pytest.raises(VerificationError):
                client.verify_consistency(replace(first, root=_flip(first.root)), last)

            token = _run(env, "token", "issue", cast.customs.participant).strip()
            _verify_registrations(client, cast, current, token)
            index = receipts[0].index
            _assert_proofs_reject_flipped_bits(client, index, first, last, token)
            _assert_checkpoint_rejects_flipped_bits(client, client.http.get("/v1/checkpoint").text)

            lot = httpx.get(f"{base_url}/v1/lots/{magnet}").json()  # no token
            assert lot["status"] == "exported", lot
            assert lot["head"] == receipts[-1].event_hash == client.heads[magnet], lot
        finally:
            client.close()
