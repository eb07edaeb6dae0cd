"""A lot's verdict from its whole history: a finding of an event in it counts, whatever lot
it names (DESIGN §9.2)."""

import json
from typing import Any

from tests.api.conftest import Ledger
from tests.api.test_bundle import check
from tests.support import ORE, Party, event, extract

# La doubled: an output the split's input cannot have made (MIX_INCONSISTENT on it alone).
CONJURED = {**ORE, "La": 2 * ORE["La"]}


def _split(ledger: Ledger, mine: Party, source: str, parts: list[tuple[str, int, Any]]) -> None:
    ledger.post(
        mine,
        event(
            mine.id,
            "lot.transform",
            prev={source: ledger.heads[source]},
            process="split",
            inputs=[{"lot": source, "mass_g": sum(mass for _, mass, _ in parts)}],
            outputs=[
                {"id": lot, "product": "ore", "mass_g": mass, "composition_ppm": composition}
                for lot, mass, composition in parts
            ],
        ),
    )


def _mine(ledger: Ledger) -> Party:
    """A mine outside the quota-controlled countries: its extracts raise nothing."""
    return ledger.enrol(Party("weld-mine"), ["mine"], "AU")


def _provenance(ledger: Ledger, lot: str, reader: Party) -> dict[str, Any]:
    answer = ledger.client.get(f"/v1/lots/{lot}/provenance", headers=ledger.auth(reader))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_split_that_conjures_in_one_output_flags_the_other(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = _mine(ledger)
    ledger.post(mine, extract(mine, "ORE-H", 10_000_000, country="AU"))
    _split(ledger, mine, "ORE-H", [("ORE-HA", 3_000_000, CONJURED), ("ORE-HB", 3_000_000, ORE)])
    own = _provenance(ledger, "ORE-HA", cast["auditor"])
    assert own["verdict"] == "flagged"
    sibling = _provenance(ledger, "ORE-HB", cast["auditor"])
    assert sibling["verdict"] == "flagged"
    assert {flag["lot"] for flag in sibling["flags"]} == {"ORE-HA"}
    # The open answer says the history carries a finding, not which other lot it names.
    public = ledger.client.get("/v1/lots/ORE-HB/provenance").json()
    assert public["verdict"] == "flagged"
    assert {flag["lot"] for flag in public["flags"]} == {None}
    assert "ORE-HA" not in json.dumps(public)
    page = ledger.client.get("/lots/ORE-HB", headers=ledger.auth(cast["auditor"])).text
    assert 'class="verdict flagged"' in page
    assert "An event in this lot's history, on lot ORE-HA:" in page


def test_an_ancestor_s_events_after_the_lineage_left_it_do_not_count(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = _mine(ledger)
    ledger.post(mine, extract(mine, "ORE-L", 10_000_000, country="AU"))
    _split(ledger, mine, "ORE-L", [("ORE-LB", 4_000_000, ORE)])
    # The rest of ORE-L goes into a split that conjures La in a lot outside ORE-LB's lineage.
    _split(ledger, mine, "ORE-L", [("ORE-LC", 3_000_000, CONJURED), ("ORE-LD", 3_000_000, ORE)])
    assert _provenance(ledger, "ORE-LD", cast["auditor"])["verdict"] == "flagged"
    assert _provenance(ledger, "ORE-LB", cast["auditor"])["verdict"] == "ok"


def _bundle_codes(ledger: Ledger, lot: str, reader: Party) -> list[str]:
    """The findings an offline verifier counts for `lot`, from its bundle alone."""
    answer = ledger.client.get(f"/v1/lots/{lot}/bundle", headers=ledger.auth(reader))
    assert answer.status_code == 200, answer.text
    report = check(ledger, answer.json())
    assert report.ok, report.failures
    return sorted(found.flag.code for found in report.flags)


def test_the_bundle_counts_the_findings_the_page_counts(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = _mine(ledger)
    ledger.post(mine, extract(mine, "ORE-M", 10_000_000, country="AU"))
    _split(ledger, mine, "ORE-M", [("ORE-MB", 4_000_000, ORE)])
    _split(ledger, mine, "ORE-M", [("ORE-MC", 3_000_000, CONJURED), ("ORE-MD", 3_000_000, ORE)])
    auditor = cast["auditor"]
    # The sibling of the conjuring split: the split's findings on ORE-MC count, as on the page.
    page = _provenance(ledger, "ORE-MD", auditor)
    assert _bundle_codes(ledger, "ORE-MD", auditor) == sorted(f["code"] for f in page["flags"])
    assert page["flags"]
    # An earlier split of the same ancestor: its bundle holds the later split, which does not
    # count (the lineage had left ORE-M), on the page or offline.
    assert _provenance(ledger, "ORE-MB", auditor)["flags"] == []
    assert _bundle_codes(ledger, "ORE-MB", auditor) == []
