"""`audit`: the full integrity check, with a progress bar on a terminal."""

import sys
from pathlib import Path

import typer

from ledger.cli.context import HomeOption, fail, one_line_errors, settings_for
from ledger.runtime import settled_collector
from ledger.service.audit import TrustedKeys, audit
from ledger.service.witness_audit import WitnessAudit, audit_witnessed
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.tlog.cosignature import WitnessKey, parse_witness_vkey
from ledger.tlog.encoding import b64decode, b64encode, parse_json
from ledger.tlog.errors import EncodingError
from ledger.verify.stored import AuditFailure


def _progress(done: int, total: int) -> None:
    width = 40
    filled = width * done // total if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} entries")
    sys.stderr.flush()


def _trusted(db: Database, log_key: str | None, operator_key: str | None) -> TrustedKeys:
    with db.read_session() as session:
        meta = logstore.read_meta(session)
        empty = logstore.entry_count(session) == 0
    if not meta and empty:
        fail("the database has no log identity: it was never initialised with `ree-ledger init`")
    needed = {"origin": True, "log_key": not log_key, "operator_key": not operator_key}
    missing = [name for name, wanted in needed.items() if wanted and name not in meta]
    if missing:
        # Part of the identity is gone: the database was damaged, not left uninitialised.
        print(f"AUDIT FAILED: ledger_meta has no {', '.join(missing)} row")
        raise typer.Exit(1)
    return TrustedKeys(
        origin=meta["origin"],
        log_vkey=log_key or meta["log_key"],
        operator_public_key=b64decode(operator_key or meta["operator_key"]),
    )


@one_line_errors
def audit_command(
    home: HomeOption = None,
    database_url: str = typer.Option(None, "--database-url", help="audit this database instead"),
    log_key: str = typer.Option(
        None, "--log-key", help="trust this verifier key (default: recorded at init)"
    ),
    operator_key: str = typer.Option(
        None, "--operator-key", help="trust this operator key (base64)"
    ),
    witness: list[str] = typer.Option(
        [],
        "--witness",
        help="a witness verifier key you trust (repeatable): report what it cosigned",
    ),
    checkpoint: list[Path] = typer.Option(
        [],
        "--checkpoint",
        help=(
            "a cosigned checkpoint note you were shown, or a bundle carrying one (repeatable): "
            "it must be one the log has"
        ),
    ),
    jobs: int = typer.Option(
        None,
        "--jobs",
        min=0,
        help=(
            "worker processes checking entries and signatures ahead of the replay, and "
            "with three or more, replaying the log in as many parts (default: one per core; "
            "0: none, all in this process)"
        ),
    ),
) -> None:
    """Recompute every hash, signature, prev link, node and checkpoint, every witness
    cosignature, and check the cosigned checkpoints shown; exit 1 on a fault."""
    # The custody policy comes from the same REE_LEDGER_* settings the server reads.
    witnesses = [_witness_key(vkey) for vkey in witness]
    shown = [(str(path), _shown_note(path)) for path in checkpoint]
    settings = settings_for(home)
    url = database_url or settings.database_url
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
        fail(f"no database at {url}: run `ree-ledger init` first or pass --database-url")
    db = Database(url)
    try:
        trusted = _trusted(db, log_key, operator_key)
        show = _progress if sys.stderr.isatty() else None
        try:
            with settled_collector():
                report = audit(db, trusted, show, jobs=jobs, policy=settings.custody_policy())
            witnessed = audit_witnessed(db, trusted.log_vkey, trusted.origin, witnesses, shown)
        except AuditFailure as exc:
            if show:
                sys.stderr.write("\n")
            print(f"AUDIT FAILED: {exc}")
            raise typer.Exit(1) from exc
        if show:
            sys.stderr.write("\n")
    finally:
        db.dispose()
    print(
        f"audit ok: {report.entries} entries, {report.checkpoints} checkpoints, "
        f"{report.lots} lots; root {b64encode(report.root)}"
    )
    print("\n".join(_witness_lines(witnessed, witnesses)))


def _witness_key(vkey: str) -> WitnessKey:
    try:
        return parse_witness_vkey(vkey)
    except EncodingError as exc:
        fail(f"--witness: {exc}")


def _shown_note(path: Path) -> str:
    """The checkpoint note in `path`: the note itself, or the `checkpoint` of a bundle."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            found = parse_json(text.encode("utf-8"))
        except EncodingError as exc:
            fail(f"--checkpoint {path}: neither a note nor a bundle: {exc}")
        if not isinstance(found, dict) or not isinstance(found.get("checkpoint"), str):
            fail(f"--checkpoint {path}: a JSON file without a `checkpoint` note")
        return str(found["checkpoint"])
    return text


def _witness_lines(witnessed: WitnessAudit, witnesses: list[WitnessKey]) -> list[str]:
    lines = [
        f"witness {key.name}: cosigned {witnessed.stored[key.name]} stored checkpoints"
        for key in witnesses
    ]
    others = sum(
        n for name, n in witnessed.stored.items() if name not in {k.name for k in witnesses}
    )
    if others:
        lines.append(f"{others} stored cosignatures by other witnesses verify")
    lines += [
        f"checkpoint {shown.label}: size {shown.size}, cosigned by "
        f"{', '.join(sorted(shown.cosigners)) or 'none of the given witnesses'}; the log has it"
        for shown in witnessed.shown
    ]
    return lines


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
