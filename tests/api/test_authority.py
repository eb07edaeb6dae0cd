"""Authority events over HTTP (DESIGN §9.1): the role, and licences in an offline bundle."""

from tests.api.conftest import Ledger
from tests.api.test_bundle import check, fetch
from tests.support import Party, declare, event, extract, licence_issue, receive, ship


def test_only_an_authority_issues_a_licence(ledger: Ledger, cast: dict[str, Party]) -> None:
    exporter = cast["exporter"]
    issued = licence_issue(exporter, "SELF-1", exporter.id, ["Dy"], 10)
    assert ledger.post(exporter, issued, status=403)["code"] == "role_not_allowed"


def test_a_revoked_licence_travels_in_the_bundle_and_is_judged_offline(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine, exporter, authority = cast["mine"], cast["exporter"], cast["authority"]
    ledger.post(authority, licence_issue(authority, "LIC-R", exporter.id, ["Nd"], 10**9))
    revoked = event(authority.id, "licence.revoke", licence="LIC-R", reason="misdeclared")
    ledger.post(authority, revoked)
    ledger.post(mine, extract(mine, "ORE-R", 1_000_000))
    ledger.post(mine, ship(mine, ledger.heads, exporter.id, [("ORE-R", 1_000_000)]))
    ledger.post(exporter, receive(exporter, ledger.heads, mine.id, [("ORE-R", 1_000_000)]))
    filed = declare(exporter, ledger.heads, "DEC-R", ["ORE-R"], 1_000_000)
    filed["declaration"]["licence"] = "LIC-R"
    answer = ledger.post(exporter, filed)
    assert "LICENCE_INVALID" in {flag["code"] for flag in answer["flags"]}
    bundle = fetch(ledger, "ORE-R", cast["auditor"])
    report = check(ledger, bundle)
    assert report.ok, report.failures
    types = [entry.event.type for entry in report.entries if entry.event]
    assert types.count("licence.issue") == 1 and types.count("licence.revoke") == 1
    [found] = [found.flag for found in report.flags if found.flag.code == "LICENCE_INVALID"]
    assert "revoked at entry" in found.message
    # Without its licence entries the bundle's replay finds the licence never issued.
    kept = [e for e in bundle["entries"] if e["index"] not in _licence_indexes(report)]
    thinned = check(ledger, {**bundle, "entries": kept})
    codes = [found.flag.message for found in thinned.flags if found.flag.code == "LICENCE_INVALID"]
    assert codes and "never issued" in codes[0]


def _licence_indexes(report: object) -> set[int]:
    entries = getattr(report, "entries", [])
    return {e.index for e in entries if e.event and e.event.type.startswith("licence.")}
