"""Seeded supply-chain scenarios: many mine-to-export chains, a share of them with one fraud."""

import heapq
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from ledger.demo.authority_frauds import LicenceMisuse, QuotaEvasion
from ledger.demo.book import Book
from ledger.demo.cast import PARTICIPANTS
from ledger.demo.chains import Chain
from ledger.demo.custody_frauds import (
    Diversion,
    DoubleUse,
    LineageRatchet,
    MixInconsistent,
    PhantomProduction,
    ShipMass,
    SubstitutionInTransit,
    TimeTravel,
    WrongOrigin,
)
from ledger.demo.customs_frauds import (
    DeclaredMass,
    HiddenControlled,
    MagnetSwap,
    Mislabel,
    Relabel,
)
from ledger.demo.model import PATTERNS, Injection, Scenario, ScenarioStep
from ledger.demo.plan import DECK, draw
from ledger.demo.tamper import Tamper

# One injector per pattern, in the order of PATTERNS.
INJECTORS: tuple[type[Tamper], ...] = (
    Mislabel,
    HiddenControlled,
    MagnetSwap,
    PhantomProduction,
    Diversion,
    DoubleUse,
    WrongOrigin,
    SubstitutionInTransit,
    DeclaredMass,
    TimeTravel,
    MixInconsistent,
    ShipMass,
    LineageRatchet,
    Relabel,
    LicenceMisuse,
    QuotaEvasion,
)

# A chain starts every STAGGER (plus up to JITTER), and none runs longer than CHAIN_SPAN: the
# longest route (Brazilian sands through a Rotterdam trader to La Rochelle, Birmingham and
# Hanau: four sea passages, every gap at its longest, two consignments) takes 112 days.
STAGGER = timedelta(hours=12)
JITTER = timedelta(hours=11)
CHAIN_SPAN = timedelta(days=120)


def span(chains: int) -> timedelta:
    """How far after `start` the last event of a scenario of `chains` chains may fall.

    A caller that posts the scenario against a live clock picks `start = now - span(chains)`
    (or earlier), so that no event is dated in the future: about 220 days for 200 chains.
    """
    return STAGGER * max(chains - 1, 0) + JITTER + CHAIN_SPAN


def generate(seed: int, *, chains: int, fraud_rate: float, start: datetime) -> Scenario:
    """`chains` mine-to-export chains from `seed`, `fraud_rate` of them with one fraud each.

    The same arguments give the same scenario, byte for byte. The first event is dated
    `start` (to the second), the last no later than `start + span(chains)`. Frauds cycle
    through PATTERNS, so every pattern appears once `chains * fraud_rate` reaches
    len(PATTERNS).
    """
    if chains < 1:
        raise ValueError(f"chains must be at least 1, got {chains}")
    if not 0 <= fraud_rate <= 1:
        raise ValueError(f"fraud_rate must be between 0 and 1, got {fraud_rate}")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC)")
    start = start.astimezone(UTC).replace(microsecond=0)
    frauds = _frauds(seed, chains, fraud_rate)
    ends = _deal(seed, chains)
    books: list[Book] = []
    injections: list[Injection] = []
    clean: set[str] = set()
    for chain in range(chains):
        book, injection = _chain(seed, chain, ends[chain], frauds.get(chain), start)
        books.append(book)
        if injection is None:
            clean.update(book.lots)
        else:
            injections.append(injection)
    return Scenario(
        seed=seed,
        participants=PARTICIPANTS,
        steps=tuple(log_order(books)),
        injections=tuple(injections),
        clean_lots=frozenset(clean),
        all_lots=frozenset(lot for book in books for lot in book.lots),
    )


def _chain(
    seed: int, chain: int, end: str, fraud: tuple[int, int] | None, start: datetime
) -> tuple[Book, Injection | None]:
    # Each chain draws from its own stream: changing one chain leaves the others as they were.
    rng = random.Random(f"ree-ledger/{seed}/{chain}")
    tamper = Tamper(rng, 0) if fraud is None else INJECTORS[fraud[0]](rng, fraud[1])
    plan = tamper.require(draw(rng, chain, end))
    # The first chain begins at `start` itself: the scenario's first event is dated `start`.
    jitter = timedelta(minutes=rng.randint(0, int(JITTER.total_seconds()) // 60))
    begins = start + STAGGER * chain + (jitter if chain else timedelta())
    book = Book(chain=chain, clock=begins, rng=rng, sealer=tamper)
    Chain(plan, book, tamper, rng).build()
    if fraud is not None and tamper.injection is None:
        raise RuntimeError(f"chain {chain}: {tamper.pattern} found no step to tamper with")
    if max(book.times) > begins + CHAIN_SPAN:
        raise RuntimeError(f"chain {chain} runs past {CHAIN_SPAN.days} days")
    return book, tamper.injection


def _frauds(seed: int, chains: int, fraud_rate: float) -> dict[int, tuple[int, int]]:
    """chain -> (pattern index, variant): patterns cycled over randomly chosen chains."""
    count = min(chains, math.floor(chains * fraud_rate + 0.5))
    chosen = random.Random(f"ree-ledger/{seed}/frauds").sample(range(chains), count)
    return {chain: (i % len(PATTERNS), i // len(PATTERNS)) for i, chain in enumerate(chosen)}


def _deal(seed: int, chains: int) -> list[str]:
    """The end product of each chain: DECK shuffled, round after round."""
    rng = random.Random(f"ree-ledger/{seed}/deck")
    ends: list[str] = []
    while len(ends) < chains:
        ends.extend(rng.sample(DECK, len(DECK)))
    return ends[:chains]


def log_order(books: list[Book]) -> Iterator[ScenarioStep]:
    """Every chain's steps interleaved by time, each chain's own order kept.

    A backdated event sorts at the latest time its chain had reached, so that it still
    follows the events it depends on.
    """

    def keyed(chain: int, book: Book) -> Iterator[tuple[datetime, int, int, ScenarioStep]]:
        reached = book.times[0]
        for i, (when, step) in enumerate(zip(book.times, book.steps, strict=True)):
            reached = max(reached, when)
            yield reached, chain, i, step

    for _, _, _, step in heapq.merge(*(keyed(c, book) for c, book in enumerate(books))):
        yield step
