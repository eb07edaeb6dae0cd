"""The ledger's one error family: a refusal a client is told, by kind, with a stable code.

The core and the services raise LedgerError (or a subclass); api/errors.py alone turns a kind
into an HTTP status and a problem+json answer, and the CLI prints a one-line reason. No HTTP
status is chosen here.
"""

from enum import StrEnum


class Kind(StrEnum):
    """What is wrong, from the client's side."""

    MALFORMED = "malformed"  # the request cannot be read as what it claims to be
    INVALID = "invalid"  # read, but refused by a rule: the client must change it
    TOO_LARGE = "too_large"  # more than one request may carry
    UNAUTHENTICATED = "unauthenticated"  # no credential, or one that is not known
    FORBIDDEN = "forbidden"  # the caller may not do or see this
    NOT_FOUND = "not_found"  # the thing named does not exist (yet)
    CONFLICT = "conflict"  # the record's present state refuses it
    UNAVAILABLE = "unavailable"  # a state that passes: the same request may succeed later


class LedgerError(Exception):
    """Refused, and nothing is written. `code` is the stable snake_case name on the wire,
    `detail` a sentence naming what is wrong and what to do; `field` and `value` point at
    the input refused; `retry_after` (seconds) says when to ask again; `extra` holds further
    members of the answer (e.g. `position` in a batch, `size` of a replica)."""

    def __init__(
        self,
        kind: Kind,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        value: object = None,
        retry_after: int | None = None,
        **extra: object,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.code = code
        self.detail = detail
        self.field = field
        self.value = value
        self.retry_after = retry_after
        self.extra = extra

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.kind.value}, {self.code!r}, {self.detail!r}, field={self.field!r})"
