"""One part of the audit's partitioned replay (ledger/service/audit_parallel.py), in a process
of its own: a LogAuditor replays the entries of its part, and the registry's, in log order,
page after page, and holds its state between them (a module global of the process)."""

from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime
from types import MappingProxyType

from ledger.lots.memory import MemoryState
from ledger.lots.policy import CustodyPolicy
from ledger.lots.records import (
    DeclarationState,
    Edge,
    KeyState,
    LicenceState,
    LotState,
    ParticipantState,
    QuotaState,
)
from ledger.runtime import settle_collector
from ledger.service.audit_pool import worker_context
from ledger.service.audit_tables import Raised
from ledger.verify.log import LogAuditor
from ledger.verify.stored import Row

# A row of a part: the row, what the first pass found of it (a precheck verdict), and
# whether this part reports the flags and lot history it makes (a registry row is replayed
# in every part, and reported by the first only).
PartRow = tuple[Row, int, bool]
# What a part replayed into, by id: lots, participants, keys, declarations, licences, quotas,
# and edges (by "parent->child").
PartState = tuple[
    dict[str, LotState],
    dict[str, ParticipantState],
    dict[str, KeyState],
    dict[str, DeclarationState],
    dict[str, LicenceState],
    dict[str, QuotaState],
    dict[str, Edge],
]

_AUDITOR: list[LogAuditor] = []


@contextmanager
def part_pools(parts: int, auditor: LogAuditor) -> Iterator[list[Executor]]:
    """`parts` processes, each replaying one part of the log with a LogAuditor like
    `auditor` (its keys, policy and the key hints the first pass tried); started now, so
    that they are up by the time the first pass ends."""
    policy = auditor.policy
    policy_parts = (policy.earliest_time, dict(policy.customs_jurisdictions))
    keys = (auditor.origin, auditor.log_vkey, auditor.operator_public_key)
    args = (keys, policy_parts, dict(auditor.key_hints))
    with ExitStack() as stack:
        pools: list[Executor] = []
        for _ in range(parts):
            pool = ProcessPoolExecutor(
                1, mp_context=worker_context(), initializer=_start, initargs=args
            )
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            pools.append(pool)
        for started in pools:
            started.submit(_ready)
        yield pools


def _start(
    keys: tuple[str, str, bytes],
    policy: tuple[datetime, dict[str, frozenset[str]]],
    hints: Mapping[str, bytes],
) -> None:
    earliest, jurisdictions = policy
    custody = CustodyPolicy(earliest, MappingProxyType(jurisdictions))
    auditor = LogAuditor(*keys, policy=custody)
    auditor.key_hints.update(hints)
    _AUDITOR[:] = [auditor]
    settle_collector()


def _ready() -> None:
    """Nothing: a first task, which starts the process."""


def replay_rows(rows: list[PartRow]) -> tuple[list[Raised], list[tuple[str, int]]]:
    """Replay the rows (LogAuditor.replay_part); the flags they raised and the lots they
    touched, of the rows this part reports."""
    auditor = _AUDITOR[0]
    for row, verdict, reported in rows:
        flags, touched = len(auditor.flags), len(auditor.touched)
        auditor.replay_part(row, verdict)
        if not reported:
            del auditor.flags[flags:], auditor.touched[touched:]
    found = auditor.flags, auditor.touched
    auditor.flags, auditor.touched = [], []
    return found


def final_state() -> PartState:
    """The state this part replayed into, as the tables compare it."""
    state: MemoryState = _AUDITOR[0].state
    return (
        state.lots,
        state.participants,
        state.keys,
        state.declarations,
        state.licences,
        state.quota_records,
        {f"{edge.parent}->{edge.child}": edge for edge in state.edges},
    )
