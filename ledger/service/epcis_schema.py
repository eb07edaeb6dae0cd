"""GS1's EPCIS JSON Schema on a ledger: where it is, whether capture applies it, installing it.

The schema is optional: capture's own checks stand without it (ledger/epcis/shape.py). When the
file is there, capture applies it as well; a file that is there but unusable stops captures
(503) rather than being skipped, since the operator meant it to be applied.
"""

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ledger.epcis.schema import EpcisValidator, SchemaUnavailable, read_schema
from ledger.service.epcis import load_validator

LOGGER = logging.getLogger("ree_ledger.epcis")

SCHEMA_FILE = "EPCIS-JSON-Schema.json"
SchemaStatus = Literal["active", "absent", "unusable"]


def home_schema_path(home: Path) -> Path:
    return home / SCHEMA_FILE


def install_schema(source: Path, destination: Path) -> None:
    """Check the schema in `source` and put it at `destination` atomically.

    Raises SchemaUnavailable (the file is not a schema capture can apply) or OSError; either
    way nothing is written at `destination`.
    """
    data = source.read_bytes()
    read_schema(data)
    fd, temporary = tempfile.mkstemp(prefix=".epcis-schema-", dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class _Loaded:
    stamp: tuple[int, int, int] | None  # (inode, size, mtime_ns) of the file; None: no file
    validator: EpcisValidator | None
    problem: str | None  # why the file there is unusable


class InstalledSchema:
    """The schema file a server applies, read again whenever the file changes.

    `required` is true when the operator named the file ($REE_LEDGER_EPCIS_SCHEMA): then its
    absence is a fault, not the ordinary state of a ledger without GS1's schema.
    """

    def __init__(self, path: Path, required: bool = False) -> None:
        self.path = path
        self.required = required
        self._lock = threading.Lock()
        self._loaded = _Loaded(None, None, None)
        self._read = False

    @classmethod
    def of(cls, home: Path, configured: Path | None) -> "InstalledSchema":
        """The file $REE_LEDGER_EPCIS_SCHEMA names (then required), else the home's."""
        if configured is not None:
            return cls(configured, required=True)
        return cls(home_schema_path(home))

    def validator(self) -> EpcisValidator | None:
        """The validator to apply, None when there is no schema; raises SchemaUnavailable when
        the file is there (or required) but unusable."""
        loaded = self._current()
        if loaded.problem is not None:
            raise SchemaUnavailable(loaded.problem)
        return loaded.validator

    def status(self) -> SchemaStatus:
        loaded = self._current()
        if loaded.problem is not None:
            return "unusable"
        return "absent" if loaded.validator is None else "active"

    def _current(self) -> _Loaded:
        stamp = self._stamp()
        with self._lock:
            if not self._read or stamp != self._loaded.stamp:
                self._loaded = self._load(stamp)
                self._read = True
            return self._loaded

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            found = self.path.stat()
        except OSError:
            return None
        return (found.st_ino, found.st_size, found.st_mtime_ns)

    def _load(self, stamp: tuple[int, int, int] | None) -> _Loaded:
        if stamp is None and not self.required:
            return _Loaded(None, None, None)
        try:
            return _Loaded(stamp, load_validator(self.path), None)
        except (OSError, SchemaUnavailable) as exc:
            # The path is the operator's business: it goes to the server's log, not to clients.
            LOGGER.warning("cannot apply the EPCIS JSON Schema at %s: %s", self.path, exc)
            return _Loaded(stamp, None, str(exc) or type(exc).__name__)
