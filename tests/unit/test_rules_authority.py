"""Authority events (DESIGN §9.1): licences and quotas, LICENCE_INVALID and QUOTA_EXCEEDED."""

from typing import Any

import msgspec
import pytest

from ledger.lots.memory import MemoryState
from ledger.lots.records import ParticipantState, Rejection
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import apply_event
from tests.unit.test_rules_builders import NDFEB, TOL, build, lot

T0 = "2026-03-01T08:00:00Z"
LATER = "2026-06-01T08:00:00Z"
# Bastnaesite ore at 7 % RE: 10 t of it is about 826 kg REO.
ORE = {"La": 22_000, "Ce": 35_000, "Nd": 13_000, "Fe": 100_000}
CAST = (
    ("mofcom", "CN", {"authority"}),
    ("other-ministry", "CN", {"authority"}),
    ("us-commerce", "US", {"authority"}),
    ("bayan-mine", "CN", {"mine"}),
    ("pass-mine", "US", {"mine"}),
    ("ningbo-exp", "CN", {"exporter"}),
    ("tianjin-exp", "CN", {"exporter"}),
    ("houston-exp", "US", {"exporter"}),
    ("customs-cn", "CN", {"customs"}),
)


class Ledger:
    """The state machine and the rules over a MemoryState, entry by entry."""

    def __init__(self) -> None:
        self.state = MemoryState()
        self.index = 0
        for pid, country, roles in CAST:
            self.state.participants[pid] = ParticipantState(pid, pid, country, frozenset(roles), 0)

    def post(self, type_: str, actor: str, time: str = T0, **fields: Any) -> list[Flag]:
        """Apply the event (a Rejection propagates); the flags it raised on the state before."""
        self.index += 1
        event = msgspec.structs.replace(build(type_, actor, time, **fields), id=f"ev-{self.index}")
        effects = apply_event(event, f"{self.index:064x}", self.index, self.state, None)
        flags = check_event(event, self.state, TOL)
        self.state.apply(effects, event.id, self.index)
        return flags

    def licence(self, lid: str = "CN-EL-1", actor: str = "mofcom", **changes: Any) -> None:
        licence = {
            "id": lid,
            "holder": "ningbo-exp",
            "elements": ["Dy"],
            "max_mass_g": 2_000,
            "valid_from": "2026-01-01T00:00:00Z",
            "valid_until": "2026-12-31T23:59:59Z",
            **changes,
        }
        self.post("licence.issue", actor, licence=licence)

    def magnet(self, lot_id: str, owner: str = "ningbo-exp", mass_g: int = 100_000) -> None:
        """A magnet lot of `mass_g` at 0.9 % Dy (100 kg: 900 g of Dy)."""
        made = lot(lot_id, mass_g, NDFEB, "magnet")
        self.state.lots[lot_id] = msgspec.structs.replace(made, custodian=owner, origins=(lot_id,))

    def declare(
        self, lot_id: str, dec: str, actor: str = "ningbo-exp", **changes: Any
    ) -> list[Flag]:
        held = self.state.lots[lot_id]
        time = changes.pop("time", LATER)
        declaration = {
            "id": dec,
            "lots": [lot_id],
            "hs_code": "850511",
            "description": "sintered NdFeB permanent magnets",
            "declared_mass_g": held.mass_g,
            "destination": "DE",
            "licence": "CN-EL-1",
            **changes,
        }
        declaration = {k: v for k, v in declaration.items() if v is not None}
        prev = {lot_id: held.head}
        return self.post("export.declare", actor, time, prev=prev, declaration=declaration)

    def decide(self, dec: str, decision: str) -> None:
        prev = {lid: self.state.lots[lid].head for lid in self.state.declarations[dec].lots}
        self.post(
            "customs.decide", "customs-cn", LATER, prev=prev, declaration=dec, decision=decision
        )

    def extract(
        self, lot_id: str, mine: str = "bayan-mine", country: str = "CN", **kw: Any
    ) -> list[Flag]:
        new = {"id": lot_id, "product": "ore", "mass_g": kw.get("mass_g", 10_000_000)}
        new["composition_ppm"] = ORE
        site = {"id": "S-1", "name": "pit", "country": country}
        deposit = kw.get("deposit", "bastnaesite")
        return self.post(
            "lot.extract", mine, kw.get("time", T0), lot=new, site=site, deposit=deposit
        )

    def quota(self, qid: str = "Q-1", **changes: Any) -> None:
        quota = {"id": qid, "holder": "bayan-mine", "year": 2026, "reo_mass_g": 1_000_000}
        self.post("quota.issue", "mofcom", quota={**quota, **changes})


def invalid(flags: list[Flag]) -> list[str]:
    """The reasons of the LICENCE_INVALID flag, if any."""
    found = [flag for flag in flags if flag.code == "LICENCE_INVALID"]
    assert all(flag.severity == "high" for flag in found)
    return [str(reason) for flag in found for reason in flag.evidence["reasons"]]  # type: ignore[attr-defined]


def codes(flags: list[Flag]) -> set[str]:
    return {flag.code for flag in flags}


@pytest.fixture
def ledger() -> Ledger:
    made = Ledger()
    made.licence()
    made.magnet("MAG-1")
    return made


def test_a_licence_that_covers_the_declaration_raises_nothing(ledger: Ledger) -> None:
    assert ledger.declare("MAG-1", "DEC-1") == []
    assert ledger.state.licences["CN-EL-1"].used_g == 900


def test_a_licence_number_as_plain_text_is_unknown(ledger: Ledger) -> None:
    assert "never issued" in invalid(ledger.declare("MAG-1", "DEC-1", licence="L"))[0]


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"valid_until": "2026-04-01T00:00:00Z"}, "expired"),
        ({"valid_from": "2026-07-01T00:00:00Z"}, "is valid from"),
        ({"holder": "tianjin-exp"}, "held by tianjin-exp"),
        ({"destination": ["JP", "KR"]}, "is for JP, KR, not DE"),
        ({"hs_codes": ["2846"]}, "covers HS 2846, not 850511"),
        ({"elements": ["Tb"]}, "does not name Dy"),
        ({"max_mass_g": 800}, "allows 800 g of Dy"),
    ],
)
def test_each_cause_of_an_invalid_licence_is_flagged(changes: dict[str, Any], said: str) -> None:
    ledger = Ledger()
    ledger.licence(**changes)
    ledger.magnet("MAG-1")
    found = invalid(ledger.declare("MAG-1", "DEC-1"))
    assert len(found) == 1 and said in found[0], found


def test_a_licence_under_a_longer_hs_heading_covers_the_declared_code(ledger: Ledger) -> None:
    fresh = Ledger()
    fresh.licence(hs_codes=["8505"], destination=["DE"], elements=["Dy", "Tb"])
    fresh.magnet("MAG-1")
    assert fresh.declare("MAG-1", "DEC-1", hs_code="8505110000") == []


def test_a_revoked_licence_is_invalid_and_only_its_issuer_revokes_it(ledger: Ledger) -> None:
    with pytest.raises(Rejection) as refused:
        ledger.post("licence.revoke", "other-ministry", licence="CN-EL-1", reason="fraud")
    assert refused.value.code == "not_issuing_authority"
    ledger.post("licence.revoke", "mofcom", licence="CN-EL-1", reason="fraud")
    assert "revoked at entry" in invalid(ledger.declare("MAG-1", "DEC-1"))[0]


def test_only_an_authority_issues_licences_and_quotas() -> None:
    ledger = Ledger()
    with pytest.raises(Rejection) as refused:
        ledger.licence(actor="ningbo-exp")
    assert refused.value.code == "role_not_allowed"
    with pytest.raises(Rejection) as refused:
        ledger.post(
            "quota.issue",
            "customs-cn",
            quota={"id": "Q", "holder": "bayan-mine", "year": 2026, "reo_mass_g": 5},
        )
    assert refused.value.code == "role_not_allowed"
    with pytest.raises(Rejection) as refused:
        ledger.post(
            "quota.issue",
            "mofcom",
            quota={"id": "Q", "holder": "ningbo-exp", "year": 2026, "reo_mass_g": 5},
        )
    assert refused.value.code == "quota_holder_not_mine"


def test_an_unknown_field_of_a_licence_is_refused() -> None:
    from ledger.lots.events import InvalidEvent

    with pytest.raises(InvalidEvent) as refused:
        Ledger().licence(note="x")
    assert refused.value.code == "unknown_field"


def test_two_pending_declarations_cannot_each_fit_and_together_exceed(ledger: Ledger) -> None:
    ledger.magnet("MAG-2")
    ledger.magnet("MAG-3")
    assert ledger.declare("MAG-1", "DEC-1") == []  # 900 g of 2,000 g
    assert ledger.declare("MAG-2", "DEC-2") == []  # 1,800 g
    assert "1.8 kg already declared" in invalid(ledger.declare("MAG-3", "DEC-3"))[0]


def test_a_release_keeps_the_draw_and_a_seizure_gives_it_back(ledger: Ledger) -> None:
    ledger.magnet("MAG-2")
    ledger.magnet("MAG-3")
    ledger.declare("MAG-1", "DEC-1")
    ledger.declare("MAG-2", "DEC-2")
    ledger.decide("DEC-1", "release")
    assert ledger.state.licences["CN-EL-1"].used_g == 1_800
    ledger.decide("DEC-2", "seize")
    assert ledger.state.licences["CN-EL-1"].used_g == 900
    assert ledger.state.declarations["DEC-2"].licence_g == 0
    assert ledger.declare("MAG-3", "DEC-3") == []


def test_a_declaration_with_someone_elses_licence_does_not_draw_it(ledger: Ledger) -> None:
    ledger.magnet("MAG-T", owner="tianjin-exp")
    assert "held by ningbo-exp" in invalid(ledger.declare("MAG-T", "DEC-T", actor="tianjin-exp"))[0]
    assert ledger.state.licences["CN-EL-1"].used_g == 0


def test_the_exporters_country_picks_the_control_list() -> None:
    ledger = Ledger()
    ledger.magnet("MAG-US", owner="houston-exp")
    # A US exporter's Dy magnet is not judged by China's list: no licence needed.
    assert ledger.declare("MAG-US", "DEC-US", actor="houston-exp", licence=None) == []
    ledger.magnet("MAG-CN")
    assert codes(ledger.declare("MAG-CN", "DEC-CN", licence=None)) == {"CONTROLLED_WITHOUT_LICENCE"}


def test_a_cn_mine_without_a_quota_is_flagged() -> None:
    flags = Ledger().extract("ORE-1")
    assert codes(flags) == {"QUOTA_EXCEEDED"} and "no quota for 2026" in flags[0].message


def test_a_cn_mine_within_its_quota_is_clean_and_beyond_it_is_flagged() -> None:
    ledger = Ledger()
    ledger.quota(reo_mass_g=1_700_000)
    assert ledger.extract("ORE-1") == []  # about 826 kg REO
    assert ledger.extract("ORE-2") == []  # about 1.65 t
    assert codes(ledger.extract("ORE-3")) == {"QUOTA_EXCEEDED"}
    assert ledger.state.quota_records["Q-1"].used_g > 1_700_000


def test_a_quota_covers_its_year_and_its_deposit_only() -> None:
    ledger = Ledger()
    ledger.quota(deposit="monazite")
    ledger.quota("Q-2025", year=2025)
    assert codes(ledger.extract("ORE-1")) == {"QUOTA_EXCEEDED"}
    ledger.quota("Q-BAST", deposit="bastnaesite")
    assert ledger.extract("ORE-2") == []
    assert ledger.state.quota_records["Q-BAST"].used_g > 0


def test_mines_outside_the_quota_jurisdiction_are_not_judged() -> None:
    # Mountain Pass: a US mine at a US site.
    assert Ledger().extract("ORE-US", mine="pass-mine", country="US") == []


def test_a_cn_mine_naming_a_site_abroad_is_still_judged() -> None:
    assert codes(Ledger().extract("ORE-1", country="MM")) == {"QUOTA_EXCEEDED"}


def test_a_licence_from_another_countrys_authority_does_not_cover_the_export() -> None:
    ledger = Ledger()
    ledger.licence(actor="us-commerce")
    ledger.magnet("MAG-1")
    found = invalid(ledger.declare("MAG-1", "DEC-1"))
    assert len(found) == 1 and "issued by us-commerce of US" in found[0]


# Found by the adversary (ledger/demo/adversary.py).


@pytest.mark.parametrize(
    ("lot_time", "expired"), [("2026-05-01T00:04:00Z", False), ("2026-05-02T08:00:00Z", True)]
)
def test_a_declaration_dated_back_into_the_licence_s_validity_does_not_renew_it(
    lot_time: str, expired: bool
) -> None:
    # The goods reached the exporter after the licence expired; the declaration is dated the
    # day before. Clock drift of minutes at the expiry is no finding.
    ledger = Ledger()
    ledger.licence(valid_until="2026-05-01T00:00:00Z")
    ledger.magnet("MAG-1")
    ledger.state.lots["MAG-1"] = msgspec.structs.replace(ledger.state.lots["MAG-1"], time=lot_time)
    reasons = invalid(ledger.declare("MAG-1", "DEC-1", time="2026-04-30T23:59:00Z"))
    assert any("expired" in reason for reason in reasons) == expired


def test_a_late_certificate_does_not_set_the_lot_s_clock_back() -> None:
    ledger = Ledger()
    ledger.state.participants["lab-1"] = ParticipantState(
        "lab-1", "lab", "CN", frozenset({"lab"}), 0
    )
    ledger.magnet("MAG-1")
    ledger.state.lots["MAG-1"] = msgspec.structs.replace(ledger.state.lots["MAG-1"], time=LATER)
    head = ledger.state.lots["MAG-1"].head
    ledger.post(
        "lot.assay",
        "lab-1",
        T0,
        prev={"MAG-1": head},
        lot="MAG-1",
        composition_ppm=NDFEB,
        method="ICP-MS",
        lab="lab-1",
    )
    assert ledger.state.lots["MAG-1"].time == LATER


@pytest.mark.parametrize(
    ("sender", "to", "flagged"),
    [
        ("ningbo-exp", "houston-exp", True),
        ("ningbo-exp", "tianjin-exp", False),
        ("houston-exp", "ningbo-exp", False),
    ],
)
def test_controlled_goods_shipped_out_of_a_listing_country_are_an_unlicensed_export(
    sender: str, to: str, flagged: bool
) -> None:
    ledger = Ledger()
    ledger.magnet("MAG-1", owner=sender)
    head = ledger.state.lots["MAG-1"].head
    flags = ledger.post(
        "lot.ship",
        sender,
        LATER,
        prev={"MAG-1": head},
        to=to,
        lots=[{"lot": "MAG-1", "mass_g": 100_000}],
    )
    assert ("CONTROLLED_WITHOUT_LICENCE" in codes(flags)) == flagged
