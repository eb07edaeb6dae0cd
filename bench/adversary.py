"""The adversary's score (issue 14): per evasion strategy, the instances caught and by which
codes; per honest edge case, the false flags. Read from the write responses of one run and
the lots' public verdicts (GET /v1/lots/{lot}/provenance)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ledger.lots.scenarios.adversary import Adversary, Campaign

SERIOUS = frozenset({"medium", "high"})


@dataclass
class KindScore:
    """One strategy's or honest case's instances and what the ledger found in them."""

    kind: str
    honest: bool
    expected: tuple[str, ...]
    instances: int = 0
    hits: int = 0  # a strategy: instances caught; an honest case: instances falsely flagged
    flagged_verdicts: int = 0  # instances whose every target lot's verdict is `flagged`
    codes: Counter[str] = field(default_factory=Counter)  # instances per medium/high code
    low: Counter[str] = field(default_factory=Counter)  # instances per low-severity code
    refused: int = 0  # instances with an event the ledger refused
    missed: list[str] = field(default_factory=list)  # notes of the instances not caught
    unseen: str = ""  # why the record cannot show it, where the strategy says so


def verdicts(client: httpx.Client, adversary: Adversary) -> dict[str, str]:
    """The public verdict of every campaign's target lots."""
    found = {}
    for lot in sorted({lot for c in adversary.campaigns for lot in c.targets}):
        response = client.get(f"/v1/lots/{lot}/provenance")
        response.raise_for_status()
        found[lot] = response.json()["verdict"]
    return found


def score(
    adversary: Adversary,
    flags: dict[str, list[dict[str, Any]]],
    refused: dict[str, str],
    verdict: dict[str, str],
) -> list[KindScore]:
    """Per kind, in the adversary's order: a strategy's instance is caught when an event
    from its evasion on raised a medium or high flag or was refused; an honest case's
    instance is a false flag when any of its events raised a medium or high flag."""
    scores: dict[str, KindScore] = {}
    for campaign in adversary.campaigns:
        kind = scores.setdefault(
            campaign.kind,
            KindScore(campaign.kind, campaign.honest, campaign.expected, unseen=campaign.unseen),
        )
        _count(kind, campaign, flags, refused, verdict)
    return list(scores.values())


def _count(
    kind: KindScore,
    campaign: Campaign,
    flags: dict[str, list[dict[str, Any]]],
    refused: dict[str, str],
    verdict: dict[str, str],
) -> None:
    raised = [flag for event in campaign.judged for flag in flags.get(event, [])]
    serious = {flag["code"] for flag in raised if flag["severity"] in SERIOUS}
    said_no = any(event in refused for event in campaign.judged)
    kind.instances += 1
    kind.hits += bool(serious or said_no)
    kind.refused += said_no
    targets = campaign.targets
    kind.flagged_verdicts += bool(targets) and all(verdict.get(t) == "flagged" for t in targets)
    kind.codes.update(serious)
    kind.low.update({flag["code"] for flag in raised if flag["severity"] not in SERIOUS})
    if not campaign.honest and not (serious or said_no):
        kind.missed.append(campaign.note)


def _codes(counts: Counter[str], expected: Iterable[str] = ()) -> str:
    """Codes with their instance counts, the expected ones in bold; – when none."""
    wanted = set(expected)
    return (
        ", ".join(
            f"**`{code}`** {n}" if code in wanted else f"`{code}` {n}"
            for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        )
        or "–"
    )


def strategy_table(scores: list[KindScore]) -> str:
    lines = [
        "| strategy | instances | caught | verdict `flagged` | caught by (instances per code; "
        "expected in bold) |",
        "|---|---:|---:|---:|---|",
    ]
    for row in scores:
        if not row.honest:
            lines.append(
                f"| `{row.kind}` | {row.instances} | {row.hits} | {row.flagged_verdicts} | "
                f"{_codes(row.codes, row.expected)} |"
            )
    total = [row for row in scores if not row.honest]
    lines.append(
        f"| **all** | {sum(r.instances for r in total)} | **{sum(r.hits for r in total)}** | "
        f"{sum(r.flagged_verdicts for r in total)} | |"
    )
    return "\n".join(lines)


def honest_table(scores: list[KindScore]) -> str:
    lines = [
        "| honest case | instances | falsely flagged (medium/high) | verdict `flagged` | "
        "medium/high codes | low-severity codes |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in scores:
        if row.honest:
            lines.append(
                f"| `{row.kind}` | {row.instances} | {row.hits} | {row.flagged_verdicts} | "
                f"{_codes(row.codes)} | {_codes(row.low)} |"
            )
    total = [row for row in scores if row.honest]
    lines.append(
        f"| **all** | {sum(r.instances for r in total)} | **{sum(r.hits for r in total)}** | "
        f"{sum(r.flagged_verdicts for r in total)} | | |"
    )
    return "\n".join(lines)


def missed(scores: list[KindScore]) -> str:
    """Per strategy with instances no code caught: why (where it says), and what each did;
    empty when every instance was caught."""
    lines = []
    for row in scores:
        if row.missed:
            why = f" The record cannot show it: {row.unseen}." if row.unseen else ""
            lines.append(f"- `{row.kind}`, {len(row.missed)} of {row.instances}.{why}")
            lines.extend(f"  - {note}" for note in row.missed)
    return "\n".join(lines)
