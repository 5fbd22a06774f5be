"""beacon.core.workers: a computation in a worker process (decision 0028), its result and its errors."""

from __future__ import annotations

import os

import pytest

from beacon.core import workers


def test_a_worker_returns_the_result_computed_in_another_process() -> None:
    with workers.start(os.getpid) as job:
        assert job.in_worker
        child = job.result()
    assert child != os.getpid()  # it ran elsewhere
    assert job.seconds >= 0.0
    assert job.result() == child  # collected once, kept


def test_an_error_in_the_worker_is_raised_to_the_caller() -> None:
    with workers.start(int, "not a number") as job, pytest.raises(ValueError, match="not a number"):
        job.result()


def test_leaving_the_block_early_shuts_the_worker_down() -> None:
    with pytest.raises(RuntimeError, match="the caller failed"), workers.start(sum, [1, 2, 3]) as job:
        raise RuntimeError("the caller failed")
    assert job._pool is None  # shut down; the result was abandoned


def test_run_here_is_the_same_job_computed_at_once() -> None:
    job = workers.run_here(os.getpid)
    assert not job.in_worker
    assert job.result() == os.getpid()


def test_a_warm_worker_is_started_ahead_and_then_runs_the_job() -> None:
    warm = workers.Warm("json")
    assert warm.pool is not None
    with workers.start_in(warm, os.getpid) as job:
        assert job.in_worker
        child = job.result()
    assert child != os.getpid()
    assert warm.pool is None  # the job owned it and shut it down
    with pytest.raises(RuntimeError, match="already been used"):
        workers.start_in(warm, os.getpid)


def test_a_warm_worker_not_needed_is_closed() -> None:
    warm = workers.Warm()
    warm.close()
    assert warm.pool is None
    warm.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="already been used or closed"):
        warm.take()
