"""`verify-bundle`: check a lot's offline bundle with no network and no database."""

import sys
from pathlib import Path

import typer

from ledger.cli.context import fail, one_line_errors
from ledger.config import Settings
from ledger.lots.events import Event, ParticipantKeyAdd, ParticipantKeyRevoke, ParticipantRegister
from ledger.lots.rules.flags import grams
from ledger.lots.tolerances import Tolerances
from ledger.tlog.cosignature import WitnessKey, parse_witness_vkey
from ledger.tlog.encoding import b64decode, b64encode, parse_json
from ledger.tlog.errors import EncodingError
from ledger.verify.bundle import BundleReport, EntryCheck, parse_bundle, verify_bundle

OK_MARK = "✓"
FAILED_MARK = "✗"


@one_line_errors
def verify_bundle_command(
    file: Path = typer.Argument(
        ..., help="the bundle from GET /v1/lots/{lot}/bundle; '-' reads standard input"
    ),
    log_key: str = typer.Option(
        ..., "--log-key", help="the log verifier key you trust (published, not the bundle's)"
    ),
    operator_key: str = typer.Option(
        ..., "--operator-key", help="the operator key you trust (base64 of the raw 32 bytes)"
    ),
    witness: list[str] = typer.Option(
        [], "--witness", help="a witness verifier key you trust (repeatable)"
    ),
    quorum: int = typer.Option(
        None,
        "--quorum",
        min=1,
        help="how many of the --witness keys must have cosigned the checkpoint (default: all)",
    ),
) -> None:
    """Re-run every check on a lot's bundle offline: exit 0 intact, 1 a check failed, 2
    unusable input. Flags are findings: they are printed and do not fail the check."""
    data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    try:
        bundle = parse_bundle(parse_json(data))
    except EncodingError as exc:
        fail(f"{file}: not a bundle: {exc}")
    try:
        trusted_operator_key = b64decode(operator_key)
    except EncodingError as exc:
        fail(f"--operator-key: {exc}")
    witnesses = _witnesses(witness, quorum)
    try:
        # The custody policy of the REE_LEDGER_* settings, as the server that wrote the log.
        policy = Settings().custody_policy()
        report = verify_bundle(
            bundle,
            log_key,
            trusted_operator_key,
            Tolerances(),
            policy,
            witnesses,
            len(witnesses) if quorum is None else quorum,
        )
    except EncodingError as exc:
        fail(f"--log-key or --operator-key: {exc}")
    print("\n".join(render(report)))
    if not report.ok:
        print(f"BUNDLE FAILED: {report.failures[0]}")
        raise typer.Exit(1)
    size = report.checkpoint.size if report.checkpoint else 0
    print(f"bundle ok: lot {report.lot}, {len(report.entries)} entries, checkpoint {size}")


def _witnesses(vkeys: list[str], quorum: int | None) -> list[WitnessKey]:
    if quorum is not None and quorum > len(vkeys):
        fail(f"--quorum {quorum} needs at least {quorum} --witness keys, got {len(vkeys)}")
    keys = []
    for vkey in vkeys:
        try:
            keys.append(parse_witness_vkey(vkey))
        except EncodingError as exc:
            fail(f"--witness: {exc}")
    return keys


def render(report: BundleReport) -> list[str]:
    """The report for people: header, one line per entry, flags, mines, failures."""
    lines = [f"Bundle of lot {report.lot}", *_header(report), "", "Entries"]
    for check in report.entries:
        lines.extend(_entry_lines(check))
    lines += ["", "Flags recomputed (default tolerances, docs/rules.md)"]
    lines += [
        f"  entry {found.index}  {found.flag.code} ({found.flag.severity})  "
        f"{found.flag.lot}: {found.flag.message}"
        for found in report.flags
    ] or ["  none"]
    lines += ["", "Mine origins", *_mines(report)]
    if report.failures:
        lines += ["", "Failed checks", *(f"  {failure}" for failure in report.failures)]
    return lines


def _header(report: BundleReport) -> list[str]:
    checkpoint = report.checkpoint
    signed = "NOT verified" if any("(14)" in p for p in report.problems) else "signature ok"
    lines = [f"  origin      {report.origin}"]
    if checkpoint is None:
        lines.append("  checkpoint  unreadable")
    else:
        root = b64encode(checkpoint.root)
        lines.append(f"  checkpoint  size {checkpoint.size}, root {root} ({signed})")
        if report.cosigners:
            cosigned = ", ".join(name for name, _ in report.cosigners)
            lines.append(f"  witnesses   cosigned by {cosigned}")
    state = report.state
    if state is not None and report.ok:  # after a failure the replay stopped short
        lines.append(
            f"  lot         {state.product}, {grams(state.mass_g)}, {state.status}, "
            f"custodian {state.custodian}"
        )
    lines.append(f"  head        {report.head or 'none in the bundle'}")
    failures = report.failures
    if failures:
        verdict = f"FAILED: {len(failures)} failed checks; the first: {failures[0]}"
    else:
        flags = f"{len(report.flags)} flags" if len(report.flags) != 1 else "1 flag"
        verdict = f"VERIFIED: {len(report.entries)} entries, every check passed; {flags}"
    return [*lines, f"  verdict     {verdict}"]


def _entry_lines(check: EntryCheck) -> list[str]:
    mark = OK_MARK if check.ok else FAILED_MARK
    event = check.event
    if event is None:
        head = f"  {mark} {check.index:>6}  (unreadable)"
    else:
        about = ", ".join(check.lots) or _participant(event)
        head = (
            f"  {mark} {check.index:>6}  {event.type:<20}  {event.actor:<16}  {event.time}  {about}"
        )
    details = [f"             {problem}" for problem in check.problems]
    return [head, *details, *(f"             note: {note}" for note in check.notes)]


def _participant(event: Event) -> str:
    match event:
        case ParticipantRegister():
            return f"participant {event.participant.id}"
        case ParticipantKeyAdd() | ParticipantKeyRevoke():
            return f"participant {event.participant}"
        case _:
            return ""


def _mines(report: BundleReport) -> list[str]:
    shares = {share.origin.lot: share.share for share in report.shares}
    lines = []
    for mine in report.mines:
        share = f"  {shares[mine.lot]:.1%} of the rare earths" if mine.lot in shares else ""
        lines.append(
            f"  {mine.lot}  {mine.mine}  {mine.site_name} ({mine.site_id}), {mine.country}, "
            f"{mine.deposit}{share}"
        )
    return lines or ["  none"]


def register(app: typer.Typer) -> None:
    app.command("verify-bundle")(verify_bundle_command)
