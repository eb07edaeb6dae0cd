"""Entry point of the `ree-ledger` command."""

import typer

from ledger.cli import (
    audit,
    bundle,
    epcis,
    home,
    keys,
    participants,
    tokens,
    witness,
    witness_log,
)

app = typer.Typer(
    name="ree-ledger",
    help="A verifiable traceability ledger for rare-earth material.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
home.register(app)
keys.register(app)
audit.register(app)
bundle.register(app)
app.add_typer(participants.participant_app, name="participant")
app.add_typer(tokens.token_app, name="token")
app.add_typer(epcis.epcis_app, name="epcis")
# `witness init|vkey|serve` run a witness; `witness add|remove|quorum|list` configure a log's.
witness_log.register(witness.witness_app)
app.add_typer(witness.witness_app, name="witness")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
