"""Process-wide tuning for the long-running commands: the server, the audit and its workers."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young collections every 10,000 net allocations instead of 700, older ones more rarely: a
# batch or an audit page allocates hundreds of thousands of short-lived objects, and each
# collection of a generation walks every object in it.
THRESHOLDS = (10_000, 50, 100)


def settle_collector() -> None:
    """Freeze what the process has built so far and collect more rarely from now on.

    What exists after startup (modules, the app, its schemas) lives as long as the process:
    frozen (`gc.freeze`), later collections leave it out instead of walking it every time.
    Objects still go as soon as nothing refers to them; only cycles wait longer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


@contextmanager
def settled_collector() -> Iterator[None]:
    """`settle_collector()` for a while (one command's run), then as it was."""
    thresholds = gc.get_threshold()
    settle_collector()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
