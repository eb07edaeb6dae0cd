"""What every verb shares: the home, settings, the database, and one-line failures."""

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, NoReturn, ParamSpec, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from ledger.config import Settings
from ledger.errors import LedgerError
from ledger.home import HomeError
from ledger.tlog.errors import EncodingError, VerificationError

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="ledger home (default $REE_LEDGER_HOME or ./.ree-ledger)"),
]

P = ParamSpec("P")
R = TypeVar("R")


def settings_for(home: Path | None) -> Settings:
    return Settings(home=home) if home is not None else Settings()


def fail(message: str) -> NoReturn:
    """Print a one-line reason to stderr and exit non-zero."""
    print(f"ree-ledger: {message}", file=sys.stderr)
    raise typer.Exit(2)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the ledger's expected failures into a one-line reason and exit 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LedgerError as exc:
            from api.errors import status_of  # the HTTP status the same refusal answers

            fail(f"refused ({status_of(exc)} {exc.code}): {exc.detail}")
        except (HomeError, EncodingError, VerificationError, OSError, ValueError) as exc:
            fail(str(exc))
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            fail(f"database: {reason}")

    return wrapper
