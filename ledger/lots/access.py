"""Who may read a lot's commercial detail (DESIGN §6): one rule, for reads and for what a write
answers."""

from ledger.lots.records import LotState, ParticipantState

# Roles that may read every lot's commercial detail.
OVERSIGHT_ROLES = frozenset({"customs", "auditor"})


def may_read_detail(reader: ParticipantState | None, lot: LotState) -> bool:
    """Customs and auditors read every lot; a participant reads the lots it holds or receives."""
    if reader is None:
        return False
    if reader.roles & OVERSIGHT_ROLES:
        return True
    return reader.id in (lot.custodian, lot.pending_to)
