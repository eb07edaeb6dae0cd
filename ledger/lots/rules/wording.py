"""The words of a description: terms as whole words, and negations that do not name them.

A description is read as a sequence of word tokens (lower-case runs of letters and digits,
decimal numbers, "%" and "-"), in one linear pass; a term is a sequence of such tokens and
occurs where they follow each other, which is the whole-word match (a term is not found
inside a longer word; "rare-earth" and "rare earth" are two terms). An occurrence negated
names nothing: "REE-free", "free of rare earths", "no rare earth", "non-rare-earth",
"without REE", "0 % rare earth", "rare earth content: none".
"""

import functools
import re
from collections.abc import Iterable, Sequence

# One alternative per token kind, no nested repetition: linear in the text's length.
_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[a-z0-9]+|[%-]")
_HYPHEN = "-"  # joins words; the negation looks through it ("REE-free", "non-rare-earth")
# A word right before a term that negates it.
NEGATE_BEFORE = frozenset({"no", "non", "not", "without", "zero", "nil", "excluding", "trace"})
# Two words right before a term that negate it.
NEGATE_PAIRS = frozenset(
    {("free", "of"), ("free", "from"), ("devoid", "of"), ("absent", "of"), ("traces", "of")}
)
# A word between a negation and its term ("not containing rare earths", "without any REE").
_LINKS = frozenset({"containing", "contains", "contain", "any", "added", "including"})
# A word right after a term that negates it ("REE-free", "rare earths: none").
NEGATE_AFTER = frozenset({"free", "none", "nil", "zero", "absent"})
# Two words after a term that negate it ("rare earths not present").
_NOT_THERE = frozenset({"present", "contained", "detected", "included"})
# Words between a term and its negation ("rare earth content: none").
_BETWEEN = frozenset({"content", "contents", "level", "levels", "is", "are"})
_UNITS = frozenset({"%", "ppm", "percent", "pct"})


def tokens(text: str) -> tuple[str, ...]:
    """The word tokens of `text`, lower-case."""
    return tuple(_TOKEN.findall(text.lower()))


@functools.lru_cache(maxsize=1024)
def _term(term: str) -> tuple[str, ...]:
    return tokens(term)


def _zero(token: str) -> bool:
    return token[0].isdigit() and float(token) == 0


def _before(words: Sequence[str], start: int) -> list[str]:
    """Up to two words before `start`, nearest last, hyphens skipped."""
    found = [word for word in words[max(0, start - 4) : start] if word != _HYPHEN]
    return found[-2:]


def _after(words: Sequence[str], end: int) -> list[str]:
    """Up to two words from `end` on, hyphens skipped."""
    return [word for word in words[end : end + 4] if word != _HYPHEN][:2]


def _negated_before(words: Sequence[str], start: int) -> bool:
    before = _before(words, start)
    if before and (before[-1] in NEGATE_BEFORE or _zero(before[-1])):
        return True
    if len(before) < 2:
        return False
    first, last = before
    if (first, last) in NEGATE_PAIRS or (first in NEGATE_BEFORE and last in _LINKS):
        return True
    return last in _UNITS and _zero(first)


def _negated_after(words: Sequence[str], end: int) -> bool:
    after = _after(words, end)
    if after and (after[0] in NEGATE_AFTER or _zero(after[0])):
        return True
    if len(after) < 2:
        return False
    first, last = after
    if first == "not" and last in _NOT_THERE:
        return True
    return first in _BETWEEN and (last in NEGATE_AFTER or _zero(last))


def negated(words: Sequence[str], start: int, end: int) -> bool:
    """Whether the term at words[start:end] is negated by the words next to it."""
    return _negated_before(words, start) or _negated_after(words, end)


def occurs(words: Sequence[str], term: Sequence[str], *, negatable: bool = True) -> bool:
    """Whether `term` occurs in `words` as whole words (and, if `negatable`, not negated)."""
    if not term:
        return False
    size, head = len(term), term[0]
    return any(
        word == head
        and tuple(words[at : at + size]) == tuple(term)
        and not (negatable and negated(words, at, at + size))
        for at, word in enumerate(words)
    )


def terms_in(text: str, terms: Iterable[str]) -> list[str]:
    """The terms that occur in `text` as whole words, case-insensitively, negated or not: a
    description that mentions nickel at all speaks of nickel."""
    return _found(text, terms, negatable=False)


def named_in(text: str, terms: Iterable[str]) -> list[str]:
    """The terms that `text` names as whole words, case-insensitively, not negated: "REE-free"
    does not say the goods are rare earths."""
    return _found(text, terms, negatable=True)


def _found(text: str, terms: Iterable[str], *, negatable: bool) -> list[str]:
    words = tokens(text)
    present = frozenset(words)
    # A term whose first word is absent cannot occur: the scan runs only on the others.
    return [
        term
        for term in terms
        if (found := _term(term))
        and found[0] in present
        and occurs(words, found, negatable=negatable)
    ]
