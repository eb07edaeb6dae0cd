"""`ree-ledger witness ...`: run a witness (c2sp.org/tlog-witness) beside, not inside, a log.

`init`, `vkey`, `serve` and `status` act on a witness's home (its key and state), never on a
ledger home.
"""

from datetime import UTC, datetime
from pathlib import Path

import typer
import uvicorn

from ledger.cli.context import one_line_errors
from ledger.tlog.encoding import b64encode
from ledger.tlog.keys import parse_verifier_key
from ledger.witness.app import create_witness_app
from ledger.witness.home import WitnessHome, init_witness
from ledger.witness.service import Witness
from ledger.witness.store import WitnessStore, upgrade

witness_app = typer.Typer(
    help=(
        "Witnesses, which cosign a log's checkpoints after checking each extends the last: "
        "run one (init, vkey, serve, status: on the witness's --home) or give a log its "
        "witnesses (add, remove, quorum, list: on the ledger's home)."
    ),
    no_args_is_help=True,
)

WITNESS_HOME = typer.Option(..., "--home", help="the witness's home directory")
DEFAULT_PORT = 7380


@witness_app.command("init")
@one_line_errors
def init(
    home: Path = WITNESS_HOME,
    name: str = typer.Option(
        ..., "--name", help="the witness's name, a schema-less URL such as witness.example/w1"
    ),
) -> None:
    """Make the witness's key and state database; print its verifier key."""
    print(init_witness(home, name))


@witness_app.command("vkey")
@one_line_errors
def vkey(home: Path = WITNESS_HOME) -> None:
    """Print the witness's verifier key (for the logs that will ask it to cosign)."""
    WitnessHome(home).identity()
    print(WitnessHome(home).vkey())


@witness_app.command("serve")
@one_line_errors
def serve(
    home: Path = WITNESS_HOME,
    log_key: list[str] = typer.Option(
        ...,
        "--log-key",
        help="verifier key of a log to witness (its name is the log's origin); repeatable",
    ),
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(DEFAULT_PORT, help="port to listen on"),
) -> None:
    """Serve POST /add-checkpoint; migrates the witness database to head first."""
    witness_home = WitnessHome(home)
    name, key = witness_home.identity()
    logs = [parse_verifier_key(text.strip()) for text in log_key]
    upgrade(witness_home.database_url)
    witness = Witness(name, key, logs, WitnessStore(witness_home.database_url))
    origins = ", ".join(log.name for log in logs)
    print(f"witness {name} for {origins} on http://{host}:{port}", flush=True)
    uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="info")


@witness_app.command("status")
@one_line_errors
def status(
    home: Path = WITNESS_HOME,
    evidence: Path | None = typer.Option(
        None,
        "--evidence",
        help="write each refused checkpoint (a note signed by its log) to this directory",
    ),
) -> None:
    """Print the latest checkpoint cosigned for each log and the checkpoints refused as forks."""
    witness_home = WitnessHome(home)
    name, _key = witness_home.identity()
    store = WitnessStore(witness_home.database_url)
    try:
        logs, refusals = store.logs(), store.refusals()
    finally:
        store.dispose()
    print(f"witness {name}")
    for log in logs:
        when = datetime.fromtimestamp(log.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"log {log.origin}: size {log.size}, root {b64encode(log.root)}, cosigned {when}")
    if not logs:
        print("no checkpoint cosigned yet")
    print(f"{len(refusals)} checkpoint(s) signed by a log and refused as inconsistent")
    for number, refusal in enumerate(refusals, start=1):
        when = datetime.fromtimestamp(refusal.received_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"  {number}. {when} {refusal.origin} size {refusal.size}: {refusal.reason}")
        if evidence is not None:
            evidence.mkdir(parents=True, exist_ok=True)
            (evidence / f"refused-{number}.note").write_text(refusal.note)
