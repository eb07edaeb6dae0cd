"""The adversary's score (issue 14): per evasion strategy, the instances caught and by which
codes; per honest edge case, the false flags. Read from the write responses of one run and
the lots' public verdicts (GET /v1/lots/{lot}/provenance)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ledger.demo.adversary import HONEST_CASES, STRATEGIES, Adversary, Campaign

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


def _kind_docs() -> str:
    """What each strategy and honest case does, from its docstring."""
    lines = []
    for kind in (*STRATEGIES, *HONEST_CASES):
        said = " ".join((kind.__doc__ or "").split())
        lines.append(f"- `{kind.name}`{' (honest)' if kind.honest else ''}: {said}")
    return "\n".join(lines)


def report(adversary: Adversary, entries: int, seconds: float, scores: list[KindScore]) -> str:
    """The adversary's part of docs/detection.md: both tables, what was not caught and why,
    and what each strategy and honest case does."""
    found = missed(scores)
    return (
        "## The adversary\n\n"
        "Evasion strategies of colluding key holders (a refinery's, a trader's and an "
        "exporter's keys, an authority that issues what it is asked) and honest edge cases, "
        "from `ledger/demo/adversary.py`, posted on the same ledger after the "
        "scenario, each instance a generated chain with its sizes and ratios drawn from the "
        "seed.\n\n"
        f"- {adversary.campaigns[-1].instance + 1} instances of each of "
        f"{len(STRATEGIES)} strategies and {len(HONEST_CASES)} honest cases: "
        f"{len(adversary.campaigns)} campaigns, {len(adversary.scenario.all_lots)} lots, "
        f"{entries} entries, posted in {seconds:.1f} s\n\n"
        "Caught: an event from the evasion's first on raised a medium or high flag (or was "
        "refused). Verdict `flagged`: every lot the evasion passes off reads `flagged` at "
        "`GET /v1/lots/{lot}/provenance` after the run. Codes: in how many instances each "
        "code fired at medium or high severity on those events.\n\n"
        f"{strategy_table(scores)}\n\n"
        + (f"Not caught:\n\n{found}\n\n" if found else "Every instance was caught.\n\n")
        + "Honest edge cases: every event of the campaign is judged; a false flag is an "
        "instance with any medium or high flag (low-severity flags are listed apart: clock "
        "drift and the like, which do not flag a verdict).\n\n"
        f"{honest_table(scores)}\n\n"
        "### What each one does\n\n"
        f"{_kind_docs()}\n"
    )
