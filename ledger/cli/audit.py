"""`audit`: the full integrity check, with a progress bar on a terminal."""

import sys
from pathlib import Path

import typer

from ledger.cli.context import HomeOption, fail, one_line_errors, settings_for
from ledger.runtime import settled_collector
from ledger.service.audit import TrustedKeys, audit
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.tlog.encoding import b64decode, b64encode
from ledger.verify.log import AuditFailure


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
    jobs: int = typer.Option(
        None,
        "--jobs",
        min=0,
        help=(
            "worker processes checking entries and signatures ahead of the replay "
            "(default: one per core; 0: none, all in this process)"
        ),
    ),
) -> None:
    """Recompute every hash, signature, prev link, node and checkpoint; exit 1 on a fault."""
    # The custody policy comes from the same REE_LEDGER_* settings the server reads.
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


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
