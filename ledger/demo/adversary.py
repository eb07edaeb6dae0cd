"""The adversary: evasion strategies of colluding key holders and honest edge cases, each
played on several generated chains with sizes and ratios drawn from a seed (issue 14).

`make bench-detect` posts them through the HTTP API and reports, per strategy, how many
instances were caught and by which codes, and per honest case its false flags; the tests
play each once.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledger.demo.book import Book
from ledger.demo.cast import PARTICIPANTS
from ledger.demo.edge_cases import (
    AssayedOutputs,
    AtTheFloor,
    BlendTwoDeposits,
    LateCertificate,
    LicenceExact,
    ReceiptsInside,
    SampleLots,
    UnlistedTb,
    UsExporter,
)
from ledger.demo.evasion_border import (
    BackdatedDeclaration,
    LicenceReuse,
    LicenceText,
    NegatedWords,
    OtherExporter,
    RelabelAsOre,
    SmallDeclarations,
    SmcoGeneric,
    TokenDy,
    Transship,
)
from ledger.demo.evasion_lineage import (
    CrackedMetal,
    GramToHundred,
    RatchetAfterLoss,
    RatchetDown,
    RatchetUp,
    ShavedReceipts,
    SmallLots,
    UnlistedRoom,
)
from ledger.demo.evasion_mine import (
    AlloyDropsDy,
    FeedLaundering,
    HeavySpike,
    QuotaShift,
    QuotaUnderreport,
    SeparationLosesTb,
)
from ledger.demo.evasion_unseen import DepositOther, QuotaBackdate, UnmeasuredOre
from ledger.demo.generator import CHAIN_SPAN, STAGGER, log_order
from ledger.demo.model import Scenario
from ledger.demo.plan import DECK, draw
from ledger.demo.play import Play

# The evasions first, then the ones invented here.
STRATEGIES: tuple[type[Play], ...] = (
    SmallLots,
    RatchetUp,
    RatchetDown,
    CrackedMetal,
    GramToHundred,
    AlloyDropsDy,
    SeparationLosesTb,
    RelabelAsOre,
    LicenceText,
    HeavySpike,
    TokenDy,
    NegatedWords,
    SmcoGeneric,
    QuotaShift,
    QuotaUnderreport,
    FeedLaundering,
    ShavedReceipts,
    RatchetAfterLoss,
    UnlistedRoom,
    LicenceReuse,
    SmallDeclarations,
    OtherExporter,
    Transship,
    BackdatedDeclaration,
    QuotaBackdate,
    DepositOther,
    UnmeasuredOre,
)
HONEST_CASES: tuple[type[Play], ...] = (
    UnlistedTb,
    UsExporter,
    LateCertificate,
    BlendTwoDeposits,
    SampleLots,
    AtTheFloor,
    ReceiptsInside,
    LicenceExact,
    AssayedOutputs,
)
# Campaign chains are numbered from here, clear of a generated scenario's (lot and event ids
# carry the number), so both can share one ledger.
FIRST_CHAIN = 90_000
# The longest campaign adds weeks of splits and receipts to its chain.
EXTRA_SPAN = timedelta(days=60)


@dataclass(frozen=True)
class Campaign:
    """One instance of a strategy or honest case, as written into the scenario."""

    kind: str  # the strategy's or honest case's name
    honest: bool
    instance: int
    expected: tuple[str, ...]  # codes any of which catches it (none for an honest case)
    events: tuple[str, ...]  # every event id of the campaign, in its order
    judged: tuple[str, ...]  # those from the evasion's first on (an honest case: all)
    targets: tuple[str, ...]  # the lots the evasion passes off
    note: str
    unseen: str  # why the record cannot show the strategy, if it cannot


@dataclass(frozen=True)
class Adversary:
    scenario: Scenario  # participants and every campaign's steps, in log order
    campaigns: tuple[Campaign, ...]


def adversary_span(campaigns: int) -> timedelta:
    """How far after `start` the last event of `campaigns` campaigns may fall."""
    return STAGGER * max(campaigns - 1, 0) + CHAIN_SPAN + EXTRA_SPAN


def play(
    seed: int,
    *,
    instances: int,
    start: datetime,
    kinds: tuple[type[Play], ...] = STRATEGIES + HONEST_CASES,
) -> Adversary:
    """`instances` campaigns of each of `kinds`, drawn from `seed`, the first dated `start`.

    The scenario's `seed` is the one its participants' keys derive from: pass the seed of
    the scenario they share a ledger with.
    """
    if instances < 1:
        raise ValueError(f"instances must be at least 1, got {instances}")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC)")
    start = start.astimezone(UTC).replace(microsecond=0)
    books: list[Book] = []
    campaigns: list[Campaign] = []
    for kind in kinds:
        for instance in range(instances):
            chain = FIRST_CHAIN + len(books)
            rng = random.Random(f"ree-ledger/adversary/{seed}/{kind.name}/{instance}")
            script = kind(rng, instance)
            book = Book(chain=chain, clock=start + STAGGER * len(books), rng=rng, sealer=script)
            script.build(book, script.require(draw(rng, chain, rng.choice(DECK))))
            books.append(book)
            campaigns.append(_campaign(script, instance, book))
    honest = {
        lot for book, c in zip(books, campaigns, strict=True) if c.honest for lot in book.lots
    }
    scenario = Scenario(
        seed=seed,
        participants=PARTICIPANTS,
        steps=tuple(log_order(books)),
        injections=(),
        clean_lots=frozenset(honest),
        all_lots=frozenset(lot for book in books for lot in book.lots),
    )
    return Adversary(scenario, tuple(campaigns))


def _campaign(script: Play, instance: int, book: Book) -> Campaign:
    events = tuple(step.event["id"] for step in book.steps)
    if script.began is None:
        raise RuntimeError(f"{script.name} #{instance}: the campaign never began its evasion")
    judged = events if script.honest else events[events.index(script.began) :]
    return Campaign(
        kind=script.name,
        honest=script.honest,
        instance=instance,
        expected=script.expected,
        events=events,
        judged=judged,
        targets=tuple(dict.fromkeys(script.targets)),
        note=script.note,
        unseen=script.unseen,
    )
