"""The custody state machine: a whole supply chain, then every rejection of DESIGN §5."""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from msgspec.structs import replace

from api.errors import status_of
from ledger.lots.events import CustomsDecide, parse_event, touched_lots
from ledger.lots.memory import MemoryState
from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.lots.state import (
    DeclarationState,
    Effects,
    KeyState,
    LotState,
    Rejection,
    apply_event,
    authorise_key,
)
from ledger.tlog.encoding import b64encode, canonical, sha256
from ledger.tlog.keys import key_id, raw_public_key

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TIME = "2026-03-01T08:00:00Z"
NDFEB = {"Nd": 230_000, "Pr": 70_000, "Dy": 10_000, "Fe": 650_000, "B": 10_000}
# participant -> roles; each gets the key made from its position in this table.
PARTICIPANTS = {
    "mine-a": ["mine"],
    "proc-b": ["processor"],
    "mag-c": ["processor", "exporter"],
    "cus-d": ["customs"],
    "lab-e": ["lab"],
    "trader-f": ["trader"],
}
OPERATOR_KEYID = key_id("operator", bytes(32))


def public_key(seed: int) -> bytes:
    return raw_public_key(Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))


def key_ref(participant: str, seed: int) -> dict[str, str]:
    raw = public_key(seed)
    return {"keyid": key_id(participant, raw), "public_key": b64encode(raw)}


def new_lot(
    lot_id: str, product: str = "ore", mass_g: int = 1_000_000, **extra: Any
) -> dict[str, Any]:
    return {"id": lot_id, "product": product, "mass_g": mass_g, "composition_ppm": NDFEB, **extra}


class Chain:
    """A ledger in memory: posts events as consecutive entries, filling in `prev` by default."""

    def __init__(self, policy: CustodyPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy
        self.state = MemoryState()
        self.index = 0
        self._ids = itertools.count(1)

    def post(
        self, type_: str, actor: str, prev: dict[str, str] | None = None, **fields: Any
    ) -> Effects:
        body: dict[str, Any] = {
            "type": type_,
            "id": f"ev-{next(self._ids)}",
            "actor": actor,
            "time": TIME,
        }
        body.update(fields)
        body["prev"] = self.heads(body) if prev is None else prev
        payload = canonical(body)
        event = parse_event(payload)
        effects = apply_event(
            event, sha256(payload).hex(), self.index, self.state, NOW, self.policy
        )
        self.state.apply(effects, event.id, self.index)
        self.index += 1
        return effects

    def heads(self, body: dict[str, Any]) -> dict[str, str]:
        event = parse_event(canonical({**body, "prev": {}}))
        lots: frozenset[str] | tuple[str, ...] = touched_lots(event)
        if isinstance(event, CustomsDecide):
            declaration = self.state.declaration(event.declaration)
            lots = declaration.lots if declaration else ()
        return {lot_id: lot.head for lot_id in lots if (lot := self.state.lot(lot_id))}

    def register(
        self, participant: str, roles: list[str], seed: int, country: str = "AU"
    ) -> Effects:
        record: dict[str, Any] = {
            "id": participant,
            "name": participant.upper(),
            "country": country,
            "roles": roles,
        }
        record["keys"] = [key_ref(participant, seed)]
        return self.post("participant.register", "operator", participant=record)

    def extract(self, lot_id: str = "ORE-1", actor: str = "mine-a", **lot: Any) -> Effects:
        site = {"id": "MW-1", "name": "Mount Weld", "country": "AU"}
        return self.post(
            "lot.extract", actor, lot=new_lot(lot_id, **lot), site=site, deposit="bastnaesite"
        )

    def transform(
        self,
        process: str,
        inputs: dict[str, int],
        outputs: list[dict[str, Any]],
        actor: str = "mine-a",
    ) -> Effects:
        refs = [{"lot": lot_id, "mass_g": mass} for lot_id, mass in inputs.items()]
        return self.post("lot.transform", actor, process=process, inputs=refs, outputs=outputs)

    def ship(self, lots: dict[str, int], to: str, actor: str) -> Effects:
        refs = [{"lot": lot_id, "mass_g": mass} for lot_id, mass in lots.items()]
        return self.post("lot.ship", actor, to=to, lots=refs)

    def receive(self, lots: dict[str, int], sender: str, actor: str) -> Effects:
        refs = [{"lot": lot_id, "mass_g": mass} for lot_id, mass in lots.items()]
        sender_field: dict[str, Any] = {"from": sender}
        return self.post("lot.receive", actor, lots=refs, **sender_field)

    def declare(self, lots: list[str], actor: str = "mag-c", decl: str = "D-1") -> Effects:
        declaration = {
            "id": decl,
            "lots": lots,
            "hs_code": "850511",
            "description": "sintered NdFeB magnets",
            "declared_mass_g": 1000,
            "destination": "JP",
        }
        return self.post("export.declare", actor, declaration=declaration)

    def decide(self, decision: str, decl: str = "D-1", actor: str = "cus-d") -> Effects:
        return self.post("customs.decide", actor, declaration=decl, decision=decision)

    def lot(self, lot_id: str) -> LotState:
        found = self.state.lot(lot_id)
        assert found is not None, lot_id
        return found

    def declaration(self, declaration_id: str) -> DeclarationState:
        found = self.state.declaration(declaration_id)
        assert found is not None, declaration_id
        return found


@pytest.fixture
def chain() -> Chain:
    made = Chain()
    for seed, (participant, roles) in enumerate(PARTICIPANTS.items(), start=1):
        made.register(participant, roles, seed)
    return made


@pytest.fixture
def ore(chain: Chain) -> Chain:
    """The registry plus ORE-1, 1 t of ore held by mine-a."""
    chain.extract("ORE-1")
    return chain


@pytest.fixture
def magnets(ore: Chain) -> Chain:
    """MAG-1, 1 kg of magnets held by mag-c (who is also an exporter)."""
    ore.transform("split", {"ORE-1": 1000}, [new_lot("MAG-1", "magnet", 1000)])
    ore.ship({"MAG-1": 1000}, "mag-c", "mine-a")
    ore.receive({"MAG-1": 1000}, "mine-a", "mag-c")
    return ore


@contextmanager
def refused(status: int, code: str, value: object) -> Iterator[None]:
    """The block is refused with `status` and `code`, and the detail names `value`."""
    with pytest.raises(Rejection) as info:
        yield
    assert (status_of(info.value), info.value.code) == (status, code), info.value.detail
    assert str(value) in info.value.detail


def test_mine_to_customs_chain_is_accepted(chain: Chain) -> None:
    chain.extract("ORE-1", mass_g=10_000_000)
    chain.transform(
        "beneficiation", {"ORE-1": 10_000_000}, [new_lot("CONC-1", "concentrate", 800_000)]
    )
    chain.ship({"CONC-1": 800_000}, "proc-b", "mine-a")
    chain.receive({"CONC-1": 799_000}, "mine-a", "proc-b")
    steps = [
        ("cracking", "CONC-1", 799_000, [new_lot("MREC-1", "mixed_compound", 900_000)]),
        (
            "separation",
            "MREC-1",
            900_000,
            [new_lot("NDPR-OX-1", "oxide", 200_000), new_lot("LA-OX-1", "oxide", 150_000)],
        ),
        ("reduction", "NDPR-OX-1", 200_000, [new_lot("NDPR-M-1", "metal", 160_000)]),
        ("alloying", "NDPR-M-1", 160_000, [new_lot("ALLOY-1", "alloy", 500_000)]),
        ("milling", "ALLOY-1", 500_000, [new_lot("POWDER-1", "magnet_powder", 490_000)]),
        ("sintering", "POWDER-1", 490_000, [new_lot("MAG-1", "magnet", 480_000, spec="N52")]),
    ]
    for process, lot_id, mass, outputs in steps:
        chain.transform(process, {lot_id: mass}, outputs, actor="proc-b")
    chain.ship({"MAG-1": 480_000}, "mag-c", "proc-b")
    chain.receive({"MAG-1": 480_000}, "proc-b", "mag-c")
    chain.declare(["MAG-1"])
    last = chain.decide("release")

    magnet = chain.lot("MAG-1")
    assert (magnet.status, magnet.custodian, magnet.mass_g) == ("exported", "mag-c", 480_000)
    assert (magnet.spec, magnet.origins, magnet.pending_to) == ("N52", ("ORE-1",), None)
    assert magnet.head == last.lots[0].head
    assert magnet.updated_index == chain.index - 1
    assert chain.declaration("D-1").status == "released"
    assert (chain.lot("ORE-1").status, chain.lot("ORE-1").mass_g) == ("consumed", 0)
    assert chain.lot("CONC-1").mass_g == 0
    assert (chain.lot("LA-OX-1").status, chain.lot("LA-OX-1").custodian) == ("active", "proc-b")
    parents = {(edge.parent, edge.child): edge.mass_g for edge in chain.state.edges}
    assert parents[("MREC-1", "LA-OX-1")] == 900_000
    assert parents[("POWDER-1", "MAG-1")] == 490_000
    assert len(parents) == 8


def test_transform_records_an_edge_per_input_and_output(chain: Chain) -> None:
    chain.extract("ORE-1")
    chain.extract("ORE-2")
    outputs = [new_lot("MIX-1", mass_g=600), new_lot("MIX-2", mass_g=400)]
    effects = chain.transform("blend", {"ORE-1": 700, "ORE-2": 300}, outputs)
    edges = {(e.parent, e.child, e.mass_g) for e in effects.edges}
    assert edges == {
        ("ORE-1", "MIX-1", 700),
        ("ORE-1", "MIX-2", 700),
        ("ORE-2", "MIX-1", 300),
        ("ORE-2", "MIX-2", 300),
    }
    assert chain.lot("MIX-2").origins == ("ORE-1", "ORE-2")
    assert chain.lot("ORE-1").mass_g == 1_000_000 - 700
    assert chain.lot("ORE-1").status == "active"


def test_event_hash_becomes_the_head_of_every_lot_touched_or_created(ore: Chain) -> None:
    effects = ore.transform("split", {"ORE-1": 10}, [new_lot("ORE-1a", mass_g=10)])
    heads = {lot.head for lot in effects.lots}
    assert len(heads) == 1
    assert {lot.updated_index for lot in effects.lots} == {ore.index - 1}
    assert ore.lot("ORE-1a").created_index == ore.index - 1


def test_physics_problems_are_recorded_not_refused(ore: Chain) -> None:
    # Output exceeds input, shipped mass differs from the record, receipt differs from shipment:
    # all flags for the rules, none a rejection.
    ore.transform("milling", {"ORE-1": 10}, [new_lot("BIG-1", mass_g=10**9)])
    ore.ship({"BIG-1": 5}, "proc-b", "mine-a")
    ore.receive({"BIG-1": 7}, "mine-a", "proc-b")
    assert (ore.lot("BIG-1").mass_g, ore.lot("BIG-1").custodian) == (7, "proc-b")


def test_split_is_open_to_any_custodian_but_milling_is_not(magnets: Chain) -> None:
    magnets.ship({"MAG-1": 1000}, "trader-f", "mag-c")
    magnets.receive({"MAG-1": 1000}, "mag-c", "trader-f")
    magnets.transform("split", {"MAG-1": 400}, [new_lot("MAG-1a", "magnet", 400)], "trader-f")
    assert magnets.lot("MAG-1a").custodian == "trader-f"
    with refused(403, "role_not_allowed", "trader"):
        magnets.transform("milling", {"MAG-1": 10}, [new_lot("MAG-1b", "magnet", 10)], "trader-f")


def test_lab_may_assay_a_lot_in_transit(ore: Chain) -> None:
    ore.ship({"ORE-1": 1_000_000}, "proc-b", "mine-a")
    ore.post("lot.assay", "lab-e", lot="ORE-1", composition_ppm={"Dy": 5}, method="XRF", lab="E")
    assert ore.lot("ORE-1").status == "in_transit"
    assert ore.lot("ORE-1").updated_index == ore.index - 1


def test_hold_keeps_lots_declared_until_a_final_decision(magnets: Chain) -> None:
    magnets.declare(["MAG-1"])
    magnets.decide("hold")
    assert magnets.lot("MAG-1").status == "declared"
    assert magnets.declaration("D-1").status == "held"
    magnets.decide("seize")
    assert magnets.lot("MAG-1").status == "seized"
    assert magnets.declaration("D-1").status == "seized"


def test_key_added_is_valid_from_the_next_entry_and_revoked_from_its_entry(chain: Chain) -> None:
    new = key_ref("mine-a", 50)
    chain.post("participant.key_add", "operator", participant="mine-a", key=new)
    added = chain.index - 1
    key = chain.state.key(new["keyid"])
    assert key is not None
    assert (key.valid_at(added), key.valid_at(added + 1)) == (False, True)
    assert authorise_key(new["keyid"], "mine-a", added + 1, chain.state, OPERATOR_KEYID)
    chain.post("participant.key_revoke", "operator", participant="mine-a", keyid=new["keyid"])
    revoked = chain.state.key(new["keyid"])
    assert revoked is not None and revoked.revoked_at == chain.index - 1
    assert not revoked.valid_at(chain.index - 1)


def test_authorise_returns_the_public_key_or_none_for_the_operator(chain: Chain) -> None:
    keyid = key_ref("mine-a", 1)["keyid"]
    assert authorise_key(keyid, "mine-a", 5, chain.state, OPERATOR_KEYID) == public_key(1)
    assert authorise_key(OPERATOR_KEYID, "operator", 5, chain.state, OPERATOR_KEYID) is None


def test_memory_state_falls_back_to_its_base(ore: Chain) -> None:
    layer = MemoryState(base=ore.state)
    assert layer.lot("ORE-1") == ore.lot("ORE-1")
    assert layer.event_index("ev-1") == 0
    effects = apply_event(
        parse_event(canonical(_extract_body("ORE-9"))), "cd" * 32, ore.index, layer, NOW
    )
    layer.apply(effects, "ev-new", ore.index)
    assert layer.lot("ORE-9") is not None and ore.state.lot("ORE-9") is None
    assert layer.event_index("ev-new") == ore.index and ore.state.event_index("ev-new") is None


def _extract_body(lot_id: str) -> dict[str, Any]:
    site = {"id": "S", "name": "S", "country": "AU"}
    return {
        "type": "lot.extract",
        "id": "ev-new",
        "actor": "mine-a",
        "time": TIME,
        "prev": {},
        "lot": new_lot(lot_id),
        "site": site,
        "deposit": "other",
    }


# One test per rejection, named after its code.


def test_unknown_key(chain: Chain) -> None:
    keyid = key_ref("mine-a", 99)["keyid"]
    with refused(403, "unknown_key", keyid):
        authorise_key(keyid, "mine-a", 9, chain.state, OPERATOR_KEYID)


def test_revoked_key(chain: Chain) -> None:
    keyid = key_ref("mine-a", 1)["keyid"]
    chain.post("participant.key_revoke", "operator", participant="mine-a", keyid=keyid)
    at = chain.index - 1
    with refused(403, "revoked_key", keyid):
        authorise_key(keyid, "mine-a", at, chain.state, OPERATOR_KEYID)


def test_key_not_yet_valid(chain: Chain) -> None:
    keyid = key_ref("mine-a", 1)["keyid"]  # registered at entry 0
    with refused(403, "key_not_yet_valid", keyid):
        authorise_key(keyid, "mine-a", 0, chain.state, OPERATOR_KEYID)


def test_actor_not_key_owner(chain: Chain) -> None:
    keyid = key_ref("mine-a", 1)["keyid"]
    with refused(403, "actor_not_key_owner", "proc-b"):
        authorise_key(keyid, "proc-b", 9, chain.state, OPERATOR_KEYID)


def test_actor_not_key_owner_when_the_operator_key_signs_for_a_participant(chain: Chain) -> None:
    with refused(403, "actor_not_key_owner", "mine-a"):
        authorise_key(OPERATOR_KEYID, "mine-a", 9, chain.state, OPERATOR_KEYID)


def test_operator_key_required(chain: Chain) -> None:
    keyid = key_ref("mine-a", 1)["keyid"]
    with refused(403, "operator_key_required", keyid):
        authorise_key(keyid, "operator", 9, chain.state, OPERATOR_KEYID)


def test_role_not_allowed(ore: Chain) -> None:
    with refused(403, "role_not_allowed", "proc-b"):
        ore.extract("ORE-2", actor="proc-b")


def test_role_not_allowed_for_a_registry_event_by_a_participant(chain: Chain) -> None:
    with refused(403, "role_not_allowed", "mine-a"):
        chain.post("participant.key_add", "mine-a", participant="mine-a", key=key_ref("mine-a", 60))


def test_role_not_allowed_for_a_lot_event_by_the_operator(chain: Chain) -> None:
    with refused(403, "role_not_allowed", "operator"):
        chain.extract("ORE-2", actor="operator")


def test_role_not_allowed_to_declare_without_the_exporter_role(ore: Chain) -> None:
    with refused(403, "role_not_allowed", "mine-a"):
        ore.declare(["ORE-1"], actor="mine-a")


def test_role_not_allowed_to_decide_without_the_customs_role(magnets: Chain) -> None:
    magnets.declare(["MAG-1"])
    with refused(403, "role_not_allowed", "lab-e"):
        magnets.decide("release", actor="lab-e")


def test_not_custodian(ore: Chain) -> None:
    with refused(403, "not_custodian", "ORE-1"):
        ore.transform("milling", {"ORE-1": 5}, [new_lot("X-1")], "proc-b")


def test_not_custodian_of_an_assayed_lot_without_the_lab_role(ore: Chain) -> None:
    with refused(403, "not_custodian", "ORE-1"):
        ore.post("lot.assay", "trader-f", lot="ORE-1", composition_ppm={}, method="XRF", lab="F")


def test_not_custodian_to_declare(magnets: Chain) -> None:
    magnets.ship({"MAG-1": 1000}, "trader-f", "mag-c")
    magnets.receive({"MAG-1": 1000}, "mag-c", "trader-f")
    with refused(403, "not_custodian", "MAG-1"):
        magnets.declare(["MAG-1"])


def test_stale_prev(ore: Chain) -> None:
    stale = ore.lot("ORE-1").head
    ore.post("lot.assay", "lab-e", lot="ORE-1", composition_ppm={}, method="XRF", lab="E")
    with refused(409, "stale_prev", stale):
        ore.post(
            "lot.ship",
            "mine-a",
            prev={"ORE-1": stale},
            to="proc-b",
            lots=[{"lot": "ORE-1", "mass_g": 1}],
        )


def test_stale_prev_when_a_head_is_missing(ore: Chain) -> None:
    with refused(409, "stale_prev", "ORE-1"):
        ore.post("lot.ship", "mine-a", prev={}, to="proc-b", lots=[{"lot": "ORE-1", "mass_g": 1}])


def test_prev_mismatch(ore: Chain) -> None:
    ore.extract("ORE-2")
    prev = {"ORE-1": ore.lot("ORE-1").head, "ORE-2": ore.lot("ORE-2").head}
    with refused(422, "prev_mismatch", "ORE-2"):
        ore.post("lot.ship", "mine-a", prev=prev, to="proc-b", lots=[{"lot": "ORE-1", "mass_g": 1}])


def test_prev_mismatch_on_an_extract(ore: Chain) -> None:
    prev = {"ORE-1": ore.lot("ORE-1").head}
    site = {"id": "S", "name": "S", "country": "AU"}
    with refused(422, "prev_mismatch", "ORE-1"):
        ore.post(
            "lot.extract", "mine-a", prev=prev, lot=new_lot("ORE-2"), site=site, deposit="other"
        )


def test_duplicate_event_id(ore: Chain) -> None:
    body = _extract_body("ORE-2") | {"id": "ev-1"}  # ev-1 is entry 0, the first registration
    event = parse_event(canonical(body))
    with pytest.raises(Rejection) as info:
        apply_event(event, "ef" * 32, ore.index, ore.state, NOW)
    assert (status_of(info.value), info.value.code) == (409, "duplicate_event_id")
    assert "'ev-1'" in info.value.detail and "entry 0" in info.value.detail


def test_duplicate_lot_id(ore: Chain) -> None:
    with refused(409, "duplicate_lot_id", "ORE-1"):
        ore.extract("ORE-1")


def test_duplicate_lot_id_within_one_transform(ore: Chain) -> None:
    with refused(409, "duplicate_lot_id", "X-1"):
        ore.transform("split", {"ORE-1": 5}, [new_lot("X-1", mass_g=2), new_lot("X-1", mass_g=3)])


def test_duplicate_declaration_id(magnets: Chain) -> None:
    magnets.transform("split", {"MAG-1": 10}, [new_lot("MAG-2", "magnet", 10)], "mag-c")
    magnets.declare(["MAG-1"], decl="D-7")
    with refused(409, "duplicate_declaration_id", "D-7"):
        magnets.declare(["MAG-2"], decl="D-7")


def test_repeated_lot(ore: Chain) -> None:
    refs = [{"lot": "ORE-1", "mass_g": 1}, {"lot": "ORE-1", "mass_g": 2}]
    with refused(422, "repeated_lot", "ORE-1"):
        ore.post("lot.transform", "mine-a", process="split", inputs=refs, outputs=[new_lot("X-1")])


def test_unknown_lot(ore: Chain) -> None:
    with refused(404, "unknown_lot", "ORE-404"):
        ore.ship({"ORE-404": 1}, "proc-b", "mine-a")


def test_unknown_participant(ore: Chain) -> None:
    with refused(404, "unknown_participant", "nobody"):
        ore.ship({"ORE-1": 1}, "nobody", "mine-a")


def test_unknown_participant_for_a_key_add(chain: Chain) -> None:
    with refused(404, "unknown_participant", "ghost"):
        chain.post("participant.key_add", "operator", participant="ghost", key=key_ref("ghost", 61))


def test_unknown_declaration(chain: Chain) -> None:
    with refused(404, "unknown_declaration", "D-404"):
        chain.decide("release", decl="D-404")


def test_lot_not_active_when_in_transit(ore: Chain) -> None:
    ore.ship({"ORE-1": 1_000_000}, "proc-b", "mine-a")
    with refused(409, "lot_not_active", "in_transit"):
        ore.ship({"ORE-1": 1}, "trader-f", "mine-a")


def test_lot_not_active_when_consumed(ore: Chain) -> None:
    ore.transform("split", {"ORE-1": 1_000_000}, [new_lot("ORE-1a")])
    with refused(409, "lot_not_active", "consumed"):
        ore.transform("split", {"ORE-1": 1}, [new_lot("ORE-1b")])


def test_lot_not_active_when_declared(magnets: Chain) -> None:
    magnets.declare(["MAG-1"])
    with refused(409, "lot_not_active", "declared"):
        magnets.ship({"MAG-1": 1}, "trader-f", "mag-c")


def test_lot_not_active_for_an_assay_of_an_exported_lot(magnets: Chain) -> None:
    magnets.declare(["MAG-1"])
    magnets.decide("release")
    with refused(409, "lot_not_active", "exported"):
        magnets.post(
            "lot.assay", "cus-d", lot="MAG-1", composition_ppm={}, method="XRF", lab="Port lab"
        )


def test_lot_not_in_transit(ore: Chain) -> None:
    with refused(409, "lot_not_in_transit", "active"):
        ore.receive({"ORE-1": 1}, "mine-a", "proc-b")


def test_lot_not_declared(magnets: Chain) -> None:
    magnets.declare(["MAG-1"])
    # Only a corrupted store breaks this invariant; the state machine still refuses.
    magnets.state.lots["MAG-1"] = replace(magnets.lot("MAG-1"), status="active")
    with refused(409, "lot_not_declared", "active"):
        magnets.decide("release")


def test_insufficient_mass(ore: Chain) -> None:
    with refused(409, "insufficient_mass", "1000001"):
        ore.transform("split", {"ORE-1": 1000001}, [new_lot("X-1")])


def test_insufficient_mass_after_an_earlier_consumption(ore: Chain) -> None:
    ore.transform("split", {"ORE-1": 600_000}, [new_lot("X-1")])
    with refused(409, "insufficient_mass", "400000"):
        ore.transform("split", {"ORE-1": 600000}, [new_lot("X-2")])


def test_declaration_final(magnets: Chain) -> None:
    magnets.declare(["MAG-1"])
    magnets.decide("release")
    with refused(409, "declaration_final", "released"):
        magnets.decide("seize")


def test_not_receiver(ore: Chain) -> None:
    ore.ship({"ORE-1": 1_000_000}, "proc-b", "mine-a")
    with refused(403, "not_receiver", "trader-f"):
        ore.receive({"ORE-1": 1}, "mine-a", "trader-f")


def test_sender_mismatch(ore: Chain) -> None:
    ore.ship({"ORE-1": 1_000_000}, "proc-b", "mine-a")
    with refused(422, "sender_mismatch", "trader-f"):
        ore.receive({"ORE-1": 1}, "trader-f", "proc-b")


def test_self_shipment(ore: Chain) -> None:
    with refused(422, "self_shipment", "mine-a"):
        ore.ship({"ORE-1": 1}, "mine-a", "mine-a")


def test_time_in_future(ore: Chain) -> None:
    body = _extract_body("ORE-2") | {"time": "2026-03-01T12:05:01Z"}
    event = parse_event(canonical(body))
    with pytest.raises(Rejection) as info:
        apply_event(event, "ef" * 32, ore.index, ore.state, NOW)
    assert (status_of(info.value), info.value.code) == (422, "time_in_future")
    assert "2026-03-01T12:05:01Z" in info.value.detail
    # Exactly five minutes ahead is tolerated, and replay (now=None) never checks the clock.
    on_edge = parse_event(canonical(body | {"time": "2026-03-01T12:05:00Z"}))
    assert apply_event(on_edge, "ef" * 32, ore.index, ore.state, NOW).lots
    assert apply_event(event, "ef" * 32, ore.index, ore.state, None).lots


def test_time_too_early_is_refused_at_ingest_and_on_replay(ore: Chain) -> None:
    body = _extract_body("ORE-2") | {"time": "1970-01-01T00:00:00Z"}
    event = parse_event(canonical(body))
    for now in (NOW, None):
        with pytest.raises(Rejection) as info:
            apply_event(event, "ef" * 32, ore.index, ore.state, now)
        assert (status_of(info.value), info.value.code, info.value.field) == (
            422,
            "time_too_early",
            "time",
        )
        assert "1970-01-01T00:00:00Z" in info.value.detail
        assert "2000-01-01T00:00:00Z" in info.value.detail
    # The bound itself is accepted, and it is the policy's to move.
    on_edge = parse_event(canonical(body | {"time": "2000-01-01T00:00:00Z"}))
    assert apply_event(on_edge, "ef" * 32, ore.index, ore.state, NOW).lots
    later = CustodyPolicy(earliest_time=datetime(2020, 1, 1, tzinfo=UTC))
    old = parse_event(canonical(body | {"time": "2019-12-31T23:59:59.999Z"}))
    with pytest.raises(Rejection, match="before 2020-01-01T00:00:00Z"):
        apply_event(old, "ef" * 32, ore.index, ore.state, NOW, later)


def _jurisdictions(policy: CustodyPolicy) -> Chain:
    """mag-c (an exporter in DE) has declared D-1; customs posts in DE, FR and JP."""
    made = Chain(policy)
    for seed, (participant, roles) in enumerate(PARTICIPANTS.items(), start=1):
        made.register(participant, roles, seed, "DE" if participant == "mag-c" else "AU")
    made.register("cus-de", ["customs"], 20, "DE")
    made.register("cus-fr", ["customs"], 21, "FR")
    made.register("cus-jp", ["customs"], 22, "JP")
    made.extract("ORE-1")
    made.ship({"ORE-1": 1_000_000}, "mag-c", "mine-a")
    made.receive({"ORE-1": 1_000_000}, "mine-a", "mag-c")
    made.declare(["ORE-1"])
    return made


def test_outside_jurisdiction_customs_of_another_country_is_refused() -> None:
    chain = _jurisdictions(DEFAULT_POLICY)
    for customs in ("cus-fr", "cus-jp", "cus-d"):
        with refused(403, "outside_jurisdiction", "exporter in DE"):
            chain.decide("hold", actor=customs)
    assert chain.declaration("D-1").status == "pending"
    chain.decide("release", actor="cus-de")
    assert chain.declaration("D-1").status == "released"


def test_a_customs_union_lets_customs_decide_for_the_countries_it_names() -> None:
    other_union = _jurisdictions(CustodyPolicy(customs_jurisdictions={"FR": frozenset({"IT"})}))
    with refused(403, "outside_jurisdiction", "exporters in FR, IT only"):
        other_union.decide("hold", actor="cus-fr")
    union = CustodyPolicy(customs_jurisdictions={"FR": frozenset({"DE", "IT"})})
    chain = _jurisdictions(union)
    chain.decide("hold", actor="cus-fr")
    with refused(403, "outside_jurisdiction", "JP only"):
        chain.decide("release", actor="cus-jp")
    chain.decide("release", actor="cus-de")
    assert chain.declaration("D-1").status == "released"


# The refusals a non-custodian can meet: (setup on `ore`, the refused post, its code).
_NOT_YOURS: dict[str, tuple[Any, Any, str]] = {
    "transform": (
        lambda c: None,
        lambda c: c.transform("milling", {"ORE-1": 5}, [new_lot("X-1")], "proc-b"),
        "not_custodian",
    ),
    "ship": (lambda c: None, lambda c: c.ship({"ORE-1": 5}, "trader-f", "proc-b"), "not_custodian"),
    "assay": (
        lambda c: None,
        lambda c: c.post(
            "lot.assay", "trader-f", lot="ORE-1", composition_ppm={}, method="XRF", lab="F"
        ),
        "not_custodian",
    ),
    "declare": (lambda c: None, lambda c: c.declare(["ORE-1"]), "not_custodian"),
    "receive": (
        lambda c: c.ship({"ORE-1": 1_000_000}, "proc-b", "mine-a"),
        lambda c: c.receive({"ORE-1": 1}, "mine-a", "trader-f"),
        "not_receiver",
    ),
    "stale prev": (
        lambda c: c.post(
            "lot.assay", "lab-e", lot="ORE-1", composition_ppm={}, method="XRF", lab="E"
        ),
        lambda c: c.post(
            "lot.ship", "trader-f", prev={"ORE-1": "ab" * 32}, to="proc-b",
            lots=[{"lot": "ORE-1", "mass_g": 1}],
        ),
        "stale_prev",
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(_NOT_YOURS))
def test_a_refusal_to_a_non_custodian_names_no_other_participant(ore: Chain, kind: str) -> None:
    """The refusal says what is wrong, not who holds the lot or whom it was shipped to, nor
    which entry last touched it (DESIGN §6: a participant reads its own lots)."""
    setup, post, code = _NOT_YOURS[kind]
    setup(ore)
    with pytest.raises(Rejection) as info:
        post(ore)
    assert info.value.code == code
    senders = {"transform": "proc-b", "ship": "proc-b", "receive": "trader-f", "declare": "mag-c"}
    sender = senders.get(kind, "trader-f")
    others = [p for p in PARTICIPANTS if p != sender and p not in ("proc-b", "trader-f")]
    for other in others:
        assert other not in info.value.detail, info.value.detail
    assert "(entry" not in info.value.detail
    assert "ORE-1" in info.value.detail


def test_duplicate_participant_id(chain: Chain) -> None:
    with refused(409, "duplicate_participant_id", "mine-a"):
        chain.register("mine-a", ["mine"], 70)


def test_keyid_mismatch(chain: Chain) -> None:
    wrong = key_ref("mine-a", 71) | {"keyid": key_ref("mine-a", 72)["keyid"]}
    with refused(422, "keyid_mismatch", wrong["keyid"]):
        chain.post("participant.key_add", "operator", participant="mine-a", key=wrong)


def test_keyid_mismatch_when_the_key_id_names_another_participant(chain: Chain) -> None:
    theirs = key_ref("proc-b", 73)
    with refused(422, "keyid_mismatch", theirs["keyid"]):
        chain.post("participant.key_add", "operator", participant="mine-a", key=theirs)


def test_duplicate_keyid(chain: Chain) -> None:
    existing = key_ref("mine-a", 1)
    with refused(409, "duplicate_keyid", existing["keyid"]):
        chain.post("participant.key_add", "operator", participant="mine-a", key=existing)


def test_duplicate_keyid_within_one_registration(chain: Chain) -> None:
    key = key_ref("new-g", 74)
    record = {"id": "new-g", "name": "G", "country": "CN", "roles": ["lab"], "keys": [key, key]}
    with refused(409, "duplicate_keyid", key["keyid"]):
        chain.post("participant.register", "operator", participant=record)


def test_key_not_found(chain: Chain) -> None:
    keyid = key_ref("mine-a", 75)["keyid"]
    with refused(404, "key_not_found", keyid):
        chain.post("participant.key_revoke", "operator", participant="mine-a", keyid=keyid)


def test_key_owner_mismatch(chain: Chain) -> None:
    keyid = key_ref("mine-a", 1)["keyid"]
    with refused(422, "key_owner_mismatch", keyid):
        chain.post("participant.key_revoke", "operator", participant="proc-b", keyid=keyid)


def test_key_already_revoked(chain: Chain) -> None:
    keyid = key_ref("mine-a", 1)["keyid"]
    chain.post("participant.key_revoke", "operator", participant="mine-a", keyid=keyid)
    with refused(409, "key_already_revoked", keyid):
        chain.post("participant.key_revoke", "operator", participant="mine-a", keyid=keyid)


def test_rejected_event_changes_nothing(ore: Chain) -> None:
    before = (dict(ore.state.lots), ore.index)
    with pytest.raises(Rejection):
        ore.ship({"ORE-1": 1}, "nobody", "mine-a")
    assert (dict(ore.state.lots), ore.index) == before


def test_key_state_validity_window() -> None:
    key = KeyState("a/0", "a", bytes(32), valid_from=3, revoked_at=7)
    assert [key.valid_at(i) for i in range(2, 9)] == [False, False, True, True, True, False, False]


def test_memory_state_counts_the_lots_it_holds(ore: Chain) -> None:
    ore.transform("split", {"ORE-1": 10}, [new_lot("ORE-1a", mass_g=10)])
    assert ore.state.lot_count() == 2
    assert MemoryState(base=ore.state).lot_count() == 0
