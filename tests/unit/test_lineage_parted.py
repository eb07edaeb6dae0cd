"""lineage._parted against the literal rule it implements, element by element."""

import random
from collections.abc import Mapping, Sequence

from ledger.lots import lineage
from ledger.lots.lineage import ELEMENTS, N, remainder_mg

OTHERS = ("Fe", "B", "Co", "O")


def parted_literally(
    given: Sequence[int], outputs: Sequence[tuple[int, Mapping[str, int]]]
) -> list[list[int]]:
    """Per element: to the outputs listing it, by claim; what they leave to the others by
    mass, up to each one's unlisted remainder; by mass to all when no output claims any."""
    shares = [[0] * (2 * N) for _ in outputs]
    whole = sum(mass for mass, _ in outputs) or 1
    for k, element in enumerate(ELEMENTS):
        upper, lower = given[k], given[N + k]
        amounts = [mass * c[element] if element in c else None for mass, c in outputs]
        total = sum(a for a in amounts if a)
        left_up = max(0, upper - -(-total // 1000)) if total else upper
        left_low = 0 if total else lower
        for o, ((mass, composition), amount) in enumerate(zip(outputs, amounts, strict=True)):
            if amount is not None and total:
                shares[o][k] = -(-upper * amount // total)
                shares[o][N + k] = lower * amount // total
            else:
                cap = left_up if amount is not None else remainder_mg(mass, composition)
                shares[o][k] = min(cap, -(-left_up * mass // whole))
                shares[o][N + k] = left_low * mass // whole
    return shares


def test_parted_equals_the_literal_rule_on_random_separations() -> None:
    rng = random.Random(14)
    for _ in range(3000):
        given = [rng.choice([0, rng.randrange(10**9)]) for _ in range(N)]
        given += [rng.randrange(upper + 1) for upper in given]
        outputs = []
        for _ in range(rng.randrange(2, 9)):
            listed = rng.sample(ELEMENTS + OTHERS, rng.randrange(0, 8))
            budget = 1_000_000
            composition = {}
            for element in listed:
                composition[element] = rng.choice([0, rng.randrange(budget + 1)])
                budget -= composition[element]
            outputs.append((rng.choice([1, rng.randrange(1, 10**7)]), composition))
        assert lineage._parted(given, outputs) == parted_literally(given, outputs)
