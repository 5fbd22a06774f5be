"""A computation run in a second process, beside the caller's own work (decision 0028).

The national termly pass is Python and SQLite work on one core; the machine has two. A computation that
needs no database (its inputs are handed over: frames, a trained model) can run in a worker process while
the caller goes on, and the caller collects its result later. Threads do not help here: the work holds
the interpreter lock (measured in stop 22: the early-warning scores on a thread beside the rules were no
faster).

The worker is a fresh interpreter (the 'spawn' start method, never 'fork': polars and the database
connections of the caller must not be copied into a child). It imports only what the function and its
arguments need, and never touches the database: the caller's database may be one the worker cannot
open (the tests' in-memory SQLite). Arguments and the result travel pickled.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Any

from beacon.core.gcpause import collector_paused


def _timed[T](fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[T, float]:
    """In the worker: the function's result and the seconds it took (the collector paused, as in the pass)."""
    started = time.perf_counter()
    with collector_paused():
        out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


class Job[T]:
    """A started computation: `result()` waits for it and returns what it returned (an exception it raised
    is raised here); `seconds` is then the time it ran. Use it as a context manager: leaving the block shuts
    the worker down, and a result not collected (the caller failed first) is abandoned."""

    def __init__(self, future: Future[tuple[T, float]] | None, pool: ProcessPoolExecutor | None) -> None:
        self._future = future
        self._pool = pool
        self._done: tuple[T, float] | None = None
        self.seconds = 0.0

    @property
    def in_worker(self) -> bool:
        return self._future is not None

    def result(self) -> T:
        if self._done is None:
            assert self._future is not None
            try:
                self._done = self._future.result()
            finally:
                self._shutdown()
        out, self.seconds = self._done
        return out

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Job[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._shutdown()


def _import(modules: tuple[str, ...]) -> None:
    """In a new worker: import what its work will need (the worker's start, not its work)."""
    import importlib

    for name in modules:
        importlib.import_module(name)


class Warm:
    """A worker process started ahead of its work, importing `modules` while the caller goes on (the termly
    pass starts it before reading its frames, when the second core is idle: a fresh interpreter importing
    polars and scikit-learn takes about a second). Hand it to `start_in`, or `close` it unused."""

    def __init__(self, *modules: str) -> None:
        self.pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_import,
            initargs=(modules,),
        )
        self.pool.submit(int)  # the executor starts its process at the first submission

    def take(self) -> ProcessPoolExecutor:
        pool, self.pool = self.pool, None
        if pool is None:
            raise RuntimeError("This worker has already been used or closed")
        return pool

    def close(self) -> None:
        """Shut the worker down without waiting (it was not needed)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def start[**P, T](fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Job[T]:
    """`fn(*args, **kwargs)` started in a worker process; this process goes on. `fn` must be importable by
    name (a module-level function) and its arguments and result picklable."""
    return start_in(Warm(), fn, *args, **kwargs)


def start_in[**P, T](warm: Warm, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Job[T]:
    """`start`, in the worker `warm` already started: the job owns it from now on."""
    pool = warm.take()
    return Job(pool.submit(_timed, fn, args, kwargs), pool)


def run_here[**P, T](fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Job[T]:
    """`fn(*args, **kwargs)` run now, in this process, as a finished `Job` (work too small for a worker)."""
    job: Job[T] = Job(None, None)
    job._done = _timed(fn, args, kwargs)
    return job
