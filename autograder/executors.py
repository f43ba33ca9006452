"""Where submissions are graded: worker processes on this machine, or a Dask cluster.

Both run the same unit of work (`grade._work` on one `grade.Task`) and yield its results as they
come, in completion order. A worker process keeps its warm zygote (`autograder.warm`) from one
submission to the next; every submission still runs in a fresh, isolated child of it.

- `local`: `jobs` worker processes (default: one per core), started fresh for the batch; with one
  job, this process itself (trusted code only runs here: submissions always run in the sandbox).
- `dask`: an existing `distributed` cluster (`scheduler` is its address, e.g.
  tcp://host:8786). Its workers need the project installed (same version) and bwrap; they read
  no submission and write nothing: the notebook's cells travel to them, the files come back here.
"""

import concurrent.futures
import contextlib
import multiprocessing
import os

from autograder import warm

EXECUTORS = ("local", "dask")


def default_jobs():
    """Submissions graded at once on this machine by default: one per core."""
    return os.cpu_count() or 1


class LocalExecutor:
    """`jobs` worker processes of this machine."""

    def __init__(self, jobs=None):
        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=max(1, jobs or default_jobs()),
            mp_context=multiprocessing.get_context("spawn"),
        )

    def run_unordered(self, function, items, *args):
        """Call function(item, *args) for each item; yield (item, result, error) as each ends.

        `error` is None, or the text of the exception the call (or its worker) ended with.
        """
        futures = {self.pool.submit(function, item, *args): item for item in items}
        for future in concurrent.futures.as_completed(futures):
            yield _outcome(futures[future], future)

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class InlineExecutor:
    """This process itself, one submission after the other (one job: no worker to start)."""

    def run_unordered(self, function, items, *args):
        """As `LocalExecutor.run_unordered`, in order, here."""
        for item in items:
            try:
                yield item, function(item, *args), None
            except Exception as error:  # noqa: BLE001 - a grader bug must not stop the batch
                yield item, None, f"{type(error).__name__}: {error}"

    def close(self):
        warm.close()


class DaskExecutor:
    """The workers of the Dask cluster whose scheduler is at `address`."""

    def __init__(self, address):
        from distributed import Client

        self.client = Client(address)

    def run_unordered(self, function, items, *args):
        """As `LocalExecutor.run_unordered`, on the cluster's workers."""
        from distributed import as_completed

        futures = {self.client.submit(function, item, *args, pure=False): item for item in items}
        for future in as_completed(futures):
            yield _outcome(futures[future], future)

    def close(self):
        self.client.close()


def _outcome(item, future):
    try:
        return item, future.result(), None
    except Exception as error:  # noqa: BLE001 - a lost worker must not stop the batch
        return item, None, f"{type(error).__name__}: {error}"


@contextlib.contextmanager
def open_executor(kind="local", jobs=None, scheduler=None):
    """The executor `kind` ("local" or "dask"), closed on exit."""
    if kind == "local":
        executor = InlineExecutor() if (jobs or default_jobs()) == 1 else LocalExecutor(jobs)
    elif kind == "dask":
        if not scheduler:
            raise ValueError("the dask executor needs the scheduler's address (--scheduler)")
        executor = DaskExecutor(scheduler)
    else:
        raise ValueError(f"executor must be one of {EXECUTORS}, not {kind!r}")
    try:
        yield executor
    finally:
        executor.close()
