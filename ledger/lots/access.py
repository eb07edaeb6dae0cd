"""Who may read a lot's commercial detail (DESIGN §6): one rule, for reads and for what a write
answers."""

from collections.abc import Sequence

from ledger.lots.records import LotState, ParticipantState, StateReader
from ledger.lots.rules.flags import Flag

# Roles that may read every lot's commercial detail.
OVERSIGHT_ROLES = frozenset({"customs", "auditor"})


def may_read_detail(reader: ParticipantState | None, lot: LotState) -> bool:
    """Customs and auditors read every lot; a participant reads the lots it holds or receives."""
    if reader is None:
        return False
    if reader.roles & OVERSIGHT_ROLES:
        return True
    return reader.id in (lot.custodian, lot.pending_to)


def as_answered(
    flags: Sequence[Flag], sender: ParticipantState | None, reader: StateReader
) -> tuple[Flag, ...]:
    """`flags` as the answer to `sender`'s write carries them (DESIGN §5): whole where the
    sender may read the flag's lot in `reader` (the state after the write), else without
    their numbers: code, severity and lot stay, the evidence and the message's figures go.
    The log keeps every flag whole, for those who may read the lot."""
    shown = []
    for flag in flags:
        lot = reader.lot(flag.lot)
        if lot is not None and may_read_detail(sender, lot):
            shown.append(flag)
        else:
            message = (
                f"{flag.code} on lot {flag.lot!r}: recorded with its numbers, which only the "
                "lot's holder, customs and auditors may read"
            )
            shown.append(Flag(flag.code, flag.severity, flag.lot, message, {}))
    return tuple(shown)
