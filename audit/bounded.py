"""Work that must end in time: run in a separate, long-lived process, which is killed when it overruns.

A web worker cannot stop a function of its own that runs too long (Python threads cannot be killed, and an alarm
signal would be a process-wide switch that works only in the main thread). So heavy work that depends on what
users typed — laying out a PDF — runs in a helper process of a small pebble pool: the caller waits at most
`timeout` seconds, then the helper is killed, a fresh one takes its place, and the caller gets `TooSlow`.

The helper lives on between calls, so its caches (WeasyPrint's fonts and parsed stylesheets) stay warm; it is
started with "spawn", never forked from a web worker that may hold locks in other threads, and it is replaced
after `max_tasks` calls so that whatever it keeps cannot grow without end. Each process that uses a runner (each
gunicorn worker) gets its own helper on first use.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

T = TypeVar("T")

#: Besides its own limit, how long a call may wait for the helper while another call of this process uses it.
QUEUE_WAIT_SECONDS = 10.0


class TooSlow(Exception):
    """The work ran past its limit and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"stopped after {seconds:g} seconds")
        self.seconds = seconds


class HelperDied(Exception):
    """The helper process ended without an answer (killed from outside, out of memory, a crash in C code)."""


class BoundedRunner:
    """Runs module-level functions in helper processes with a time limit (see the module's docstring)."""

    def __init__(self, workers: int = 1, max_tasks: int = 200) -> None:
        self.workers = workers
        self.max_tasks = max_tasks
        self._lock = threading.Lock()
        self._pool: ProcessPool | None = None
        self._owner_pid = 0
        atexit.register(self.stop)

    def _current_pool(self) -> ProcessPool:
        with self._lock:
            if self._pool is None or self._owner_pid != os.getpid() or not self._pool.active:
                self._pool = ProcessPool(
                    max_workers=self.workers, max_tasks=self.max_tasks, context=multiprocessing.get_context("spawn")
                )
                self._owner_pid = os.getpid()
            return self._pool

    def run(self, function: Callable[..., T], *args: object, timeout: float) -> T:
        """`function(*args)` in a helper; its result, its exception, `TooSlow` or `HelperDied`.

        `function` and its arguments and result must pickle (a module-level function and plain data)."""
        future = self._current_pool().schedule(function, args=args, timeout=timeout)
        try:
            return future.result(timeout=timeout + QUEUE_WAIT_SECONDS)
        except FutureTimeout:  # pebble's own limit (the helper was killed), or the wait for a busy helper
            future.cancel()  # stops the helper if it is still running this call
            raise TooSlow(timeout) from None
        except (ProcessExpired, CancelledError) as exc:
            raise HelperDied(str(exc)) from None
        except BrokenProcessPool as exc:  # no helper could start: the next call starts a new pool
            self.stop()
            raise HelperDied(str(exc)) from None

    def stop(self) -> None:
        with self._lock:
            if self._pool is not None and self._owner_pid == os.getpid():
                self._pool.stop()
                self._pool.join(timeout=5)
            self._pool = None
