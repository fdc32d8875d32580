"""The parent's side of the sandbox: a small pool of long-lived worker processes.

Each web or worker process has its own pool. Workers start lazily, on the first script that
needs one, and serve one thread at a time: a thread checks a worker out, sends a request,
waits on the pipe with a wall-clock timeout (the run's time limit plus ``GRACE_S``) and
checks it back in. A worker that overruns (time spent inside one C call, which no trace
function sees) is killed with SIGKILL and replaced on the next checkout, so a runaway script
holds one worker for a bounded time and every other thread keeps being served.

A pool inherited through ``fork`` (gunicorn, Celery's prefork pool) belongs to the parent:
the child forgets its workers (closing only its own copies of their pipes) and starts its own.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from ..errors import ScriptError
from . import codec
from .child import HEADER, MAX_FRAME_BYTES

GRACE_S = 0.25
START_TIMEOUT_S = 30.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_PASSED_ENV = ("TZ", "LANG", "LC_ALL", "LC_CTYPE")


class Overrun(Exception):
    """The worker did not answer within the wall-clock timeout."""


class Died(Exception):
    """The worker's pipe closed, or it sent something that is not a frame."""


def worker_command() -> list[str]:
    """A fresh interpreter in isolated mode: no PYTHONPATH, no user site, no cwd on the path."""
    boot = (
        f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
        "from engine.sandbox.child import run; run()"
    )
    return [sys.executable, "-I", "-c", boot]


class Worker:
    """One sandbox process and its two pipes (non-blocking on this side)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            worker_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd="/",
            env={k: os.environ[k] for k in _PASSED_ENV if k in os.environ},
            close_fds=True,
        )
        self._to, self._from = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self._to, False)
        os.set_blocking(self._from, False)
        self._writable, self._readable = select.poll(), select.poll()
        self._writable.register(self._to, select.POLLOUT)
        self._readable.register(self._from, select.POLLIN)
        try:
            hello = codec.loads(self._receive(time.monotonic() + START_TIMEOUT_S))
        except (Overrun, Died, ValueError):
            self.kill()
            raise
        if not isinstance(hello, dict) or not hello.get("ready"):
            self.kill()
            raise Died("the worker did not start")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, payload: bytes, timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        self._send(HEADER.pack(len(payload)) + payload, deadline)
        return codec.loads(self._receive(deadline))

    def _wait(self, poller: select.poll, deadline: float) -> None:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Overrun
            if poller.poll(max(1, int(left * 1000))):
                return

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._to, view) :]
            except BlockingIOError:
                self._wait(self._writable, deadline)
            except (BrokenPipeError, ConnectionResetError):
                raise Died("the worker closed its pipe") from None

    def _read(self, size: int, deadline: float) -> bytes:
        buffer = bytearray()
        while len(buffer) < size:
            try:
                chunk = os.read(self._from, min(size - len(buffer), 1 << 20))
            except BlockingIOError:
                self._wait(self._readable, deadline)
                continue
            if not chunk:
                raise Died("the worker closed its pipe")
            buffer += chunk
        return bytes(buffer)

    def _receive(self, deadline: float) -> bytes:
        (size,) = HEADER.unpack(self._read(HEADER.size, deadline))
        if size > MAX_FRAME_BYTES:
            raise Died("the worker sent an oversized answer")
        return self._read(size, deadline)

    def exit_signal(self) -> int | None:
        code = self.proc.poll()
        return -code if code is not None and code < 0 else None

    def kill(self) -> None:
        """SIGKILL and reap; the process cannot outlive this call."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close_pipes()

    def close(self) -> None:
        """End an idle worker: it exits when its stdin closes."""
        self._close_pipes()
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.kill()

    def abandon(self) -> None:
        """In a forked child: drop this copy of a parent's worker without touching it."""
        self._close_pipes()
        self.proc.returncode = 0  # not ours to reap or warn about

    def _close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()


class SandboxPool:
    """Up to ``size`` workers shared by the threads of one process."""

    def __init__(self, size: int = 4) -> None:
        self.size = max(1, size)
        self._reset()
        _pools.add(self)

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._starting = 0

    def run(self, request: dict[str, Any], *, time_limit_s: float, memory_mb: int) -> Any:
        """Send one request to a worker; answer its reply, or raise ScriptError when it overran
        (the worker is killed) or died."""
        payload = codec.dumps({**request, "time_limit": time_limit_s, "memory_mb": memory_mb})
        worker = self._checkout()
        keep = False
        try:
            answer = worker.request(payload, time_limit_s + GRACE_S)
            keep = isinstance(answer, dict) and not answer.get("retire")
            return answer
        except Overrun:
            raise ScriptError(f"script exceeded its time limit of {time_limit_s:g} s") from None
        except Died:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.proc.wait(timeout=0.5)  # it may be exiting on its own: learn why
            worker.kill()
            raise ScriptError(_death(worker, time_limit_s, memory_mb)) from None
        except ValueError:
            raise ScriptError("the script's sandbox sent an answer that cannot be read") from None
        finally:
            self._checkin(worker, keep)

    def _checkout(self) -> Worker:
        if self._pid != os.getpid():  # a fork the at-fork hook did not see
            self._forget_inherited()
        with self._cond:
            while True:
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker
                if len(self._busy) + self._starting < self.size:
                    self._starting += 1
                    break
                self._cond.wait()
        try:
            worker = Worker()
        except (OSError, Overrun, Died, ValueError) as exc:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise ScriptError(f"the script sandbox could not start: {exc}") from None
        with self._cond:
            self._starting -= 1
            self._busy.add(worker)
        return worker

    def _checkin(self, worker: Worker, keep: bool) -> None:
        if not keep:
            worker.kill()
        with self._cond:
            self._busy.discard(worker)
            if keep and self._pid == os.getpid():
                self._idle.append(worker)
            self._cond.notify()

    def workers(self) -> list[int]:
        """Pids of the live workers (idle and busy), for tests and monitoring."""
        with self._cond:
            return [w.pid for w in [*self._idle, *self._busy]]

    def _forget_inherited(self) -> None:
        for worker in [*self._idle, *self._busy]:
            worker.abandon()
        self._reset()

    def close(self) -> None:
        """End every idle worker and kill busy ones (at exit)."""
        with self._cond:
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
        for worker in idle:
            worker.close()
        for worker in busy:
            worker.kill()


def _death(worker: Worker, time_limit_s: float, memory_mb: int) -> str:
    sig = worker.exit_signal()
    if sig == signal.SIGXCPU:
        return f"script exceeded its time limit of {time_limit_s:g} s"
    how = f"signal {signal.Signals(sig).name}" if sig else "exit"
    return (
        f"the script's sandbox process ended unexpectedly ({how}); a script may use "
        f"at most {memory_mb} MB and {time_limit_s:g} s"
    )


_pools: weakref.WeakSet[SandboxPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_pools):
        for worker in [*pool._idle, *pool._busy]:
            worker.abandon()
        pool._reset()


def _close_all() -> None:
    for pool in list(_pools):
        pool.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all)
