"""The word tokens of a description, and lists of terms made ready to find in them.

A description is read as a sequence of word tokens (lower-case runs of letters and digits,
decimal numbers, "%" and "-"); a term is a sequence of such tokens. Tolerances holds its
term lists as `Terms`, each term tokenized once, so that a rule looks up the words a
description has instead of reading every term of a list (ledger/lots/rules/wording.py).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

# One alternative per token kind, no nested repetition: linear in the text's length.
_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[a-z0-9]+|[%-]")


def tokens(text: str) -> tuple[str, ...]:
    """The word tokens of `text`, lower-case."""
    return tuple(_TOKEN.findall(text.lower()))


@dataclass(frozen=True)
class Text:
    """A description read as words: its tokens in order, and the set of them."""

    words: tuple[str, ...]
    present: frozenset[str]


def read(text: str) -> Text:
    words = tokens(text)
    return Text(words, frozenset(words))


@dataclass(frozen=True)
class Terms:
    """A list of terms, each tokenized: by its first word, (its place in the list, its words).
    A term with no word is in no entry: it occurs nowhere."""

    listed: tuple[str, ...]
    by_head: Mapping[str, tuple[tuple[int, tuple[str, ...]], ...]]
    heads: frozenset[str]  # by_head's keys


def terms(listed: Iterable[str]) -> Terms:
    """`listed` made ready to find: each term tokenized once."""
    listed = tuple(listed)
    by_head: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for place, term in enumerate(listed):
        words = tokens(term)
        if words:
            by_head.setdefault(words[0], []).append((place, words))
    frozen = MappingProxyType({head: tuple(entries) for head, entries in by_head.items()})
    return Terms(listed, frozen, frozenset(frozen))
