"""What ``trustfit.dask`` and ``trustfit.xarray`` share: the checks made before a graph
is built (a model a Dask cluster can receive) and the thread count of a task.

Imports nothing beyond numpy at module level: ``distributed`` is looked at only when it
has already been imported (no client can exist otherwise).
"""

from __future__ import annotations

import sys
from typing import Any, Optional


def current_client() -> Any:
    """The current ``distributed.Client``, or None (no client, or distributed never
    imported)."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import default_client
        return default_client()
    except (ImportError, ValueError):
        return None


def check_picklable(objects: dict[str, Any]) -> None:
    """Raises a TypeError naming the first object that cannot be pickled the way Dask's
    distributed scheduler pickles a task graph (pickle, then cloudpickle), when a
    distributed client is current. Every distributed cluster pickles the graph, even one
    of threads in this process; worker processes need it to rebuild the model."""
    if current_client() is None:
        return
    from distributed.protocol.pickle import dumps

    for what, obj in objects.items():
        if obj is None or isinstance(obj, (str, int, float)):
            continue
        try:
            dumps(obj)
        except Exception as exc:
            raise TypeError(
                f"{what} {obj!r} cannot be pickled ({type(exc).__name__}: {exc}), and a "
                "Dask cluster's workers receive the model by pickle: define it at module "
                "level or as a picklable object (no locks, open files, sockets or "
                "generators in it or its closure), or use a formula string"
            ) from exc


def task_threads(threads: Optional[int]) -> int:
    """Threads of the batch fitter inside one Dask task: ``threads``, else 1 (Dask runs
    one task per worker thread at a time, so a chunk on one thread keeps every core
    busy without oversubscription)."""
    return 1 if threads is None else int(threads)
