"""`witness add`, `remove`, `quorum`, `list`: the witnesses a log submits its checkpoints to.

They act on the log's home (its database); `witness init` and `witness serve` (witness.py)
run a witness. A running server picks changes up at its submitter's next round.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from ledger.cli.context import HomeOption, one_line_errors, settings_for
from ledger.service import witnesses
from ledger.service.witnesses import WitnessConfig
from ledger.store.engine import Database
from ledger.store.migrate import upgrade


@contextmanager
def _database(home: HomeOption) -> Iterator[Database]:
    """The log's database, migrated to the newest schema (the tables these verbs write)."""
    settings = settings_for(home)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        yield db
    finally:
        db.dispose()


def _show(current: WitnessConfig) -> None:
    for witness in current.witnesses:
        print(f"{witness.name}  {witness.url}  {witness.vkey}")
    print(current.describe())


@one_line_errors
def add(
    url: str = typer.Argument(
        ..., help="the witness submission prefix: POSTs go to URL/add-checkpoint"
    ),
    vkey: str = typer.Argument(..., help="the witness's cosignature/v1 verifier key"),
    quorum: int = typer.Option(
        None, "--quorum", min=0, help="how many witnesses must cosign a checkpoint to serve it"
    ),
    home: HomeOption = None,
) -> None:
    """Submit this log's checkpoints to a witness (its URL is updated if already added).

    Refusals (a bad key or URL, a name taken, an impossible quorum) are one-line reasons
    (WitnessConfigError is a ValueError)."""
    with _database(home) as db:
        _show(witnesses.add_witness(db, url, vkey, quorum))


@one_line_errors
def remove(
    name: str = typer.Argument(..., help="the witness's name"), home: HomeOption = None
) -> None:
    """Stop submitting to a witness; its stored cosignatures stay."""
    with _database(home) as db:
        _show(witnesses.remove_witness(db, name))


@one_line_errors
def quorum(
    k: int = typer.Argument(..., min=0, help="cosignatures a checkpoint needs to be served"),
    home: HomeOption = None,
) -> None:
    """Set the quorum: GET /v1/checkpoint serves the newest checkpoint K witnesses cosigned."""
    with _database(home) as db:
        _show(witnesses.set_quorum(db, k))


@one_line_errors
def list_witnesses(home: HomeOption = None) -> None:
    """The configured witnesses, the largest checkpoint each cosigned, and the quorum."""
    with _database(home) as db:
        current = witnesses.config(db)
        sizes = witnesses.cosigned_sizes(db)
    for witness in current.witnesses:
        done = sizes.get(witness.name, 0)
        cosigned = f"cosigned up to size {done}" if done else "has cosigned nothing yet"
        print(f"{witness.name}  {witness.url}  {cosigned}\n  {witness.vkey}")
    print(current.describe())


def register(witness_app: typer.Typer) -> None:
    witness_app.command("add")(add)
    witness_app.command("remove")(remove)
    witness_app.command("quorum")(quorum)
    witness_app.command("list")(list_witnesses)
