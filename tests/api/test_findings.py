"""Flags recorded with entries, visible downstream; provenance; the declaration check."""

from typing import Any

from sqlalchemy import create_engine, text

from tests.api.conftest import Ledger
from tests.support import ORE, Party, declare, event, extract, receive, ship

CONCENTRATE_A = {"La": 120000, "Ce": 210000, "Pr": 20000, "Nd": 68000, "Fe": 30000}


def _concentrate(mine: Party, ledger: Ledger, ore: str, out: str, ore_g: int, out_g: int) -> None:
    """Beneficiation at ~85 % RE recovery: the concentrate's element masses fit the ore's."""
    re_in = {el: ore_g * ppm // 1_000_000 for el, ppm in ORE.items() if el != "Fe"}
    composition = {el: int(grams * 0.85 * 1_000_000 / out_g) for el, grams in re_in.items()}
    composition["Fe"] = 30000
    ledger.post(
        mine,
        event(
            mine.id,
            "lot.transform",
            prev={ore: ledger.heads[ore]},
            process="beneficiation",
            inputs=[{"lot": ore, "mass_g": ore_g}],
            outputs=[
                {
                    "id": out,
                    "product": "concentrate",
                    "mass_g": out_g,
                    "composition_ppm": composition,
                }
            ],
        ),
    )


def _blend(ledger: Ledger, actor: Party, parts: list[tuple[str, int]], out: str) -> dict[str, Any]:
    return ledger.post(
        actor,
        event(
            actor.id,
            "lot.transform",
            prev={lot: ledger.heads[lot] for lot, _ in parts},
            process="blend",
            inputs=[{"lot": lot, "mass_g": mass} for lot, mass in parts],
            outputs=[
                {
                    "id": out,
                    "product": "concentrate",
                    "mass_g": sum(mass for _, mass in parts),
                    "composition_ppm": _lot(ledger, parts[0][0])["composition_ppm"],
                }
            ],
        ),
    )


def _lot(ledger: Ledger, lot: str) -> dict[str, Any]:
    auditor = Party("audit-office")
    token = ledger.token(auditor)
    body: dict[str, Any] = ledger.client.get(
        f"/v1/lots/{lot}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    return body


def test_receipt_mismatch_is_flagged_and_seen_downstream(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine, plant = cast["mine"], cast["plant"]
    ledger.post(mine, extract(mine, "ORE-1", 10_000_000))
    _concentrate(mine, ledger, "ORE-1", "CON-1", 10_000_000, 1_000_000)
    ledger.post(mine, ship(mine, ledger.heads, plant.id, [("CON-1", 1_000_000)]))
    answer = ledger.post(plant, receive(plant, ledger.heads, mine.id, [("CON-1", 800_000)]))
    codes = [flag["code"] for flag in answer["flags"]]
    # A fifth of the lot short: its Nd and Pr fall below what its lineage guarantees too.
    assert codes == ["RECEIPT_MISMATCH", "LINEAGE_IMBALANCE"]
    flag = answer["flags"][0]
    assert flag["lot"] == "CON-1" and flag["index"] == answer["index"]
    assert "800" in flag["message"] or "0.8" in flag["message"]
    # A split of the short-weighed concentrate carries the flag downstream.
    ledger.post(
        plant,
        event(
            plant.id,
            "lot.transform",
            prev={"CON-1": ledger.heads["CON-1"]},
            process="split",
            inputs=[{"lot": "CON-1", "mass_g": 800_000}],
            outputs=[
                {
                    "id": "CON-1a",
                    "product": "concentrate",
                    "mass_g": 400_000,
                    "composition_ppm": _lot(ledger, "CON-1")["composition_ppm"],
                },
                {
                    "id": "CON-1b",
                    "product": "concentrate",
                    "mass_g": 400_000,
                    "composition_ppm": _lot(ledger, "CON-1")["composition_ppm"],
                },
            ],
        ),
    )
    public = ledger.client.get("/v1/lots/CON-1b").json()
    assert "RECEIPT_MISMATCH" in [flag["code"] for flag in public["flags"]]
    assert "message" not in public["flags"][0]
    provenance = ledger.client.get("/v1/lots/CON-1b/provenance").json()
    assert provenance["verdict"] == "flagged"


def test_flags_list_filters_and_pages(ledger: Ledger, cast: dict[str, Party]) -> None:
    mine, plant = cast["mine"], cast["plant"]
    for n in range(3):
        ledger.post(mine, extract(mine, f"ORE-{n}", 10_000_000))
        _concentrate(mine, ledger, f"ORE-{n}", f"CON-{n}", 10_000_000, 1_000_000)
        ledger.post(mine, ship(mine, ledger.heads, plant.id, [(f"CON-{n}", 1_000_000)]))
        ledger.post(plant, receive(plant, ledger.heads, mine.id, [(f"CON-{n}", 700_000)]))
    auth = ledger.auth(cast["customs"])
    receipts = {"limit": 2, "code": "RECEIPT_MISMATCH"}
    first = ledger.client.get("/v1/flags", params=receipts, headers=auth).json()
    assert [flag["lot"] for flag in first["flags"]] == ["CON-2", "CON-1"]
    rest = ledger.client.get(
        "/v1/flags", params={**receipts, "before": first["next"]}, headers=auth
    ).json()
    assert [flag["lot"] for flag in rest["flags"]] == ["CON-0"] and rest["next"] is None
    by_lot = ledger.client.get("/v1/flags", params={"lot": "CON-1"}, headers=auth).json()
    assert sorted(flag["code"] for flag in by_lot["flags"]) == [
        "LINEAGE_IMBALANCE",
        "RECEIPT_MISMATCH",
    ]
    none = ledger.client.get("/v1/flags", params={"code": "YIELD_BELOW_FLOOR"}, headers=auth)
    assert none.json()["flags"] == []
    assert ledger.client.get("/v1/flags").status_code == 401
    assert ledger.client.get("/v1/flags", headers=ledger.auth(mine)).status_code == 403
    bad = ledger.client.get("/v1/flags", params={"code": "NOPE"}, headers=auth)
    assert bad.status_code == 422


def test_provenance_attributes_a_blend_to_both_mines(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = cast["mine"]
    other = ledger.enrol(Party("weld-mine"), ["mine"], "AU")
    ledger.post(mine, extract(mine, "ORE-A", 10_000_000))
    ledger.post(other, extract(other, "ORE-B", 10_000_000, country="AU"))
    _concentrate(mine, ledger, "ORE-A", "CON-A", 10_000_000, 1_000_000)
    _concentrate(other, ledger, "ORE-B", "CON-B", 10_000_000, 1_000_000)
    ledger.post(other, ship(other, ledger.heads, mine.id, [("CON-B", 1_000_000)]))
    ledger.post(mine, receive(mine, ledger.heads, other.id, [("CON-B", 1_000_000)]))
    _blend(ledger, mine, [("CON-A", 600_000), ("CON-B", 400_000)], "MIX-1")
    public = ledger.client.get("/v1/lots/MIX-1/provenance").json()
    assert public["verdict"] == "ok", public
    shares = {origin["country"]: origin["share"] for origin in public["origins"]}
    assert abs(shares["CN"] - 0.6) < 1e-9 and abs(shares["AU"] - 0.4) < 1e-9
    assert "steps" not in public and "mine" not in public["origins"][0]
    detail = ledger.client.get("/v1/lots/MIX-1/provenance", headers=ledger.auth(cast["auditor"]))
    body = detail.json()
    assert {origin["mine_lot"] for origin in body["origins"]} == {"ORE-A", "ORE-B"}
    assert all(step["verified"] for step in body["steps"])
    assert {lot["id"] for lot in body["lots"]} == {"ORE-A", "ORE-B", "CON-A", "CON-B", "MIX-1"}
    assert len(body["steps"]) == 7


def test_provenance_reports_a_tampered_entry_as_integrity_failure(
    ledger: Ledger, cast: dict[str, Party], database_url: str
) -> None:
    mine = cast["mine"]
    index = ledger.post(mine, extract(mine, "ORE-T", 10_000_000))["index"]
    _concentrate(mine, ledger, "ORE-T", "CON-T", 10_000_000, 1_000_000)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        stored = connection.execute(
            text("SELECT envelope FROM entries WHERE idx = :i"), {"i": index}
        ).scalar_one()
        tampered = bytes(stored).replace(b'"payload":"', b'"payload":"A', 1)
        connection.execute(
            text("UPDATE entries SET envelope = :e WHERE idx = :i"), {"e": tampered, "i": index}
        )
    engine.dispose()
    body = ledger.client.get("/v1/lots/CON-T/provenance", headers=ledger.auth(cast["auditor"]))
    found = body.json()
    assert found["verdict"] == "integrity_failure"
    bad = [step for step in found["steps"] if not step["verified"]]
    assert bad[0]["index"] == index and bad[0]["problems"][0].startswith("(1)")


def test_declaration_check_finds_a_mass_mismatch_and_writes_nothing(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine, exporter = cast["mine"], cast["exporter"]
    ledger.post(mine, extract(mine, "ORE-D", 10_000_000))
    _concentrate(mine, ledger, "ORE-D", "CON-D", 10_000_000, 1_000_000)
    size = ledger.size()
    declaration = declare(exporter, ledger.heads, "DEC-X", ["CON-D"], 1_500_000)["declaration"]
    declaration["hs_code"] = "253090"
    declaration["description"] = "Rare earth concentrate"
    del declaration["id"]
    response = ledger.client.post(
        "/v1/declarations/check", json=declaration, headers=ledger.auth(cast["customs"])
    )
    assert response.status_code == 200, response.text
    codes = {flag["code"] for flag in response.json()["flags"]}
    assert "DECLARED_MASS_MISMATCH" in codes
    assert ledger.size() == size
    unknown = {**declaration, "lots": ["NOPE"]}
    missing = ledger.client.post(
        "/v1/declarations/check", json=unknown, headers=ledger.auth(cast["customs"])
    )
    assert missing.status_code == 404
    invalid = ledger.client.post(
        "/v1/declarations/check",
        json={**declaration, "hs_code": "85x"},
        headers=ledger.auth(cast["customs"]),
    )
    assert invalid.status_code == 422 and invalid.json()["field"] == "hs_code"


def test_provenance_of_a_lot_shipped_with_another_is_intact(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine, plant = cast["mine"], cast["plant"]
    ledger.post(mine, extract(mine, "ORE-P", 10_000_000))
    ledger.post(mine, extract(mine, "ORE-Q", 10_000_000))
    lots = [("ORE-P", 10_000_000), ("ORE-Q", 10_000_000)]
    ledger.post(mine, ship(mine, ledger.heads, plant.id, lots))
    ledger.post(plant, receive(plant, ledger.heads, mine.id, lots))
    found = ledger.client.get("/v1/lots/ORE-P/provenance").json()
    assert found["verdict"] == "ok", found


def _assay(lab: Party, ledger: Ledger, lot: str, composition: dict[str, int]) -> dict[str, Any]:
    return event(
        lab.id,
        "lot.assay",
        prev={lot: ledger.heads[lot]},
        lot=lot,
        composition_ppm=composition,
        method="XRF",
        lab=f"{lab.id} laboratory",
    )


def _numbers_of(composition: dict[str, int]) -> list[str]:
    """Every way a message or evidence could spell the recorded figures."""
    return [f"{ppm:,}" for ppm in composition.values()] + [str(p) for p in composition.values()]


def test_a_lab_that_does_not_hold_the_lot_is_answered_without_the_holders_numbers(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    """DESIGN §5: any lab may assay any lot, but the answer to its write carries a flag's
    numbers only where it may read the lot; the log keeps them for those who may."""
    mine, customs = cast["mine"], cast["customs"]
    lab = ledger.enrol(Party("ningbo-lab"), ["lab"])
    ledger.post(mine, extract(mine, "ORE-1", 10_000_000))
    off = {"La": 90_000, "Ce": 29_000}
    answer = ledger.post(lab, _assay(lab, ledger, "ORE-1", off))
    [flag] = answer["flags"]
    assert (flag["code"], flag["lot"]) == ("COMPOSITION_MISMATCH", "ORE-1")
    assert (flag["index"], flag["event_hash"]) == (answer["index"], answer["event_hash"])
    assert flag["evidence"] == {}
    text = str(answer["flags"])
    # Not in the whole text: the event hash is hex and may hold any two digits.
    assert "recorded" in flag["message"] and "17" not in flag["message"]
    for spelled in _numbers_of({"La": ORE["La"]}):
        assert spelled not in text
    # The same through the batch answer, written by its fast path.
    response = ledger.client.post(
        "/v1/entries/batch", json={"envelopes": [lab.envelope(_assay(lab, ledger, "ORE-1", off))]}
    )
    assert response.status_code == 201, response.text
    [batched] = response.json()["results"]
    ledger.remember(_assay(lab, ledger, "ORE-1", off), batched["event_hash"])
    assert [(f["code"], f["evidence"]) for f in batched["flags"]] == [("COMPOSITION_MISMATCH", {})]
    assert "recorded_ppm" not in response.text
    # Customs reads every lot: the log holds the whole finding, and customs' own assay is
    # answered whole; so is the holder's.
    stored = ledger.client.get("/v1/flags?lot=ORE-1", headers=ledger.auth(customs)).json()
    assert [f["evidence"]["elements"][0]["recorded_ppm"] for f in stored["flags"]] == [17000] * 2
    ledger.heads["ORE-1"] = stored["flags"][0]["event_hash"]
    for holder_or_customs in (customs, mine):
        whole = ledger.post(holder_or_customs, _assay(holder_or_customs, ledger, "ORE-1", off))
        [flag] = whole["flags"]
        assert flag["evidence"]["elements"][0]["recorded_ppm"] == 17000
        assert "17,000" in flag["message"]


def test_the_lot_page_shows_a_non_holders_assay_as_its_claim(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine, plant, customs = cast["mine"], cast["plant"], cast["customs"]
    lab = ledger.enrol(Party("ningbo-lab"), ["lab"])
    ledger.post(mine, extract(mine, "ORE-1", 10_000_000))
    ledger.post(lab, _assay(lab, ledger, "ORE-1", dict(ORE)))
    ledger.post(mine, _assay(mine, ledger, "ORE-1", dict(ORE)))
    # After a receipt the plant holds the lot: its assay is the holder's, the mine's a claim.
    ledger.post(mine, ship(mine, ledger.heads, plant.id, [("ORE-1", 10_000_000)]))
    ledger.post(plant, receive(plant, ledger.heads, mine.id, [("ORE-1", 10_000_000)]))
    ledger.post(plant, _assay(plant, ledger, "ORE-1", dict(ORE)))
    page = ledger.client.get("/lots/ORE-1", headers=ledger.auth(customs)).text
    claim = "(not the lot's holder; its lab: {} laboratory)"
    assert f"<strong>Assay claimed by ningbo-lab</strong> {claim.format('ningbo-lab')}" in page
    assert page.count("Assay claimed by") == 1
    assert "<strong>Assayed</strong> by baotou-mine" in page
    assert "<strong>Assayed</strong> by gansu-plant" in page
