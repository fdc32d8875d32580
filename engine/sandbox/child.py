"""The sandbox worker process: runs designer code for its parent, one request at a time.

Started by ``pool`` as a fresh interpreter (``python -I``, an environment without secrets)
that imports only RestrictedPython, the guards and this package. After warming up it takes
its baseline address space and, for every run, caps it at the baseline plus the memory
ceiling (``RLIMIT_AS``) and caps its CPU time just past the run's limit (``RLIMIT_CPU``, a
backstop: the parent's wall clock kills it first). Python-level loops end at the deadline of
the trace function and cost no restart; a worker that ran out of memory, or grew, exits
after answering, and the parent starts a fresh one.

Requests and answers are length-prefixed JSON frames (``codec``) on private copies of
stdin and stdout; the real fds 0 and 1 point at /dev/null.
"""

from __future__ import annotations

import os
import resource
import signal
import struct
import sys
import traceback
from typing import Any

from ..errors import ScriptError
from . import codec
from .restricted import (
    SCRIPT_FILENAME,
    Deadline,
    base_globals,
    compile_source,
    run_code,
    script_updates,
)

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 64 * 1024 * 1024
RETIRE_GROWTH_BYTES = 64 * 1024 * 1024  # a worker that kept this much more than its baseline
_WARM_UP = (
    "stamp = (datetime(2030, 1, 2) + timedelta(days=3)).isoformat()\n"
    "text = f'{stamp:>12}' + json_dumps(json_loads('[1, 2.5, \"x\"]'))\n"
    "total = sum(x * 2 for x in range(10)) + round(math.sqrt(2), 3)\n"
)


def read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes | None:
    header = read_exactly(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME_BYTES:
        return None
    return read_exactly(fd, size)


def write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


class AddressSpace:
    """The process's virtual size (what RLIMIT_AS counts), read from a kept-open
    /proc/self/statm: a couple of microseconds per run; 0 where /proc is missing."""

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            self._fd = None
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __call__(self) -> int:
        if self._fd is None:
            return 0
        try:
            return int(os.pread(self._fd, 128, 0).split()[0]) * self._page
        except (OSError, ValueError, IndexError):
            return 0


class Limits:
    """The rlimits of one run: address space above the baseline, CPU just past the limit."""

    def __init__(self, baseline: int) -> None:
        self.baseline = baseline
        self.memory_mb: int | None = None
        self._as_hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        self._cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]

    @staticmethod
    def _capped(soft: int, hard: int) -> int:
        return soft if hard == resource.RLIM_INFINITY else min(soft, hard)

    def arm(self, memory_mb: int, time_limit_s: float) -> None:
        if memory_mb != self.memory_mb and self.baseline:
            soft = self._capped(self.baseline + memory_mb * 1024 * 1024, self._as_hard)
            resource.setrlimit(resource.RLIMIT_AS, (soft, self._as_hard))
            self.memory_mb = memory_mb
        usage = resource.getrusage(resource.RUSAGE_SELF)
        # RLIMIT_CPU counts the process's whole life, so it is set afresh before each run.
        soft = int(usage.ru_utime + usage.ru_stime + time_limit_s) + 2
        soft = self._capped(soft, self._cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, self._cpu_hard))


def _error(exc: BaseException) -> dict[str, Any]:
    args = list(exc.args)
    if not all(type(a) in (str, int, float, bool) or a is None for a in args):
        args = [str(exc)]
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == SCRIPT_FILENAME:
            line = frame.lineno
    return {"type": type(exc).__name__, "args": args, "line": line}


def _refusal(bad: dict[str, str]) -> ScriptError:
    listed = "; ".join(f"{key!r}: {why}" for key, why in sorted(bad.items()))
    return ScriptError(
        f"cannot keep these variables in the process data ({listed}); "
        "convert them, e.g. with list() or str(), or delete them with del"
    )


def _evaluate(code: Any, namespace: dict, deadline: Deadline) -> dict[str, Any]:
    result = run_code(code, namespace, deadline)
    try:
        value = codec.encode_value(result, budget=codec.MAX_STORED_CHARS, expired=deadline.passed)
    except codec.Refused as exc:
        raise ScriptError(
            f"the expression gives {exc}, which the process cannot use; "
            "convert it, e.g. with list() or str()"
        ) from None
    except codec.TooLarge:
        raise ScriptError(
            f"the expression gives more than {codec.MAX_STORED_CHARS:,} characters of data"
        ) from None
    return {"ok": True, "value": value}


def _execute(code: Any, namespace: dict, data: dict, deadline: Deadline) -> dict[str, Any]:
    injected = dict(namespace)
    namespace.update(data)
    run_code(code, namespace, deadline)
    updates = script_updates(namespace, injected, set(data))
    try:
        encoded, bad = codec.encode(
            updates, budget=codec.MAX_STORED_CHARS, storable=True, expired=deadline.passed
        )
    except codec.TooLarge:
        raise ScriptError(
            f"the script leaves more than {codec.MAX_STORED_CHARS:,} characters of data"
        ) from None
    if bad:
        raise _refusal(bad)
    if deadline.passed():
        raise deadline.error()
    return {"ok": True, "data": encoded, "deleted": [k for k in data if k not in namespace]}


def handle(request: dict[str, Any], globals_: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Run one request; return the answer and whether this worker should retire after it.

    The deadline starts before the code is compiled and ends after its result is checked,
    so every part of the run counts against the time limit.
    """
    deadline = Deadline(float(request["time_limit"]))
    evaluate = request["op"] == "evaluate"
    try:
        code = compile_source(request["source"], "eval" if evaluate else "exec")
        namespace = dict(globals_)
        namespace.update(request["external"])
        if evaluate:
            namespace.update(request["data"])
            return _evaluate(code, namespace, deadline), False
        return _execute(code, namespace, request["data"], deadline), False
    except MemoryError:
        return _memory_error(), True
    except Exception as exc:  # the designer's own error, reported to the parent as data
        return {"ok": False, "error": _error(exc)}, False


def _memory_error() -> dict[str, Any]:
    return {"ok": False, "error": {"type": "MemoryError", "args": [], "line": None}}


def _warm_up(globals_: dict[str, Any]) -> None:
    """Run typical code once, so the baseline includes what the first run allocates."""
    namespace = dict(globals_)
    run_code(compile_source(_WARM_UP, "exec"), namespace, Deadline(10.0))


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; EOF ends us
    requests, answers = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    globals_ = base_globals()
    _warm_up(globals_)
    address_space = AddressSpace()
    limits = Limits(address_space())
    write_frame(answers, codec.dumps({"ready": True, "pid": os.getpid()}))
    while True:
        raw = read_frame(requests)
        if raw is None:
            return
        try:
            request = codec.loads(raw)
            limits.arm(int(request["memory_mb"]), float(request["time_limit"]))
            answer, retire = handle(request, globals_)
            payload = codec.dumps(answer)
        except MemoryError:
            answer, retire = _memory_error(), True
            payload = codec.dumps(answer)
        except (ValueError, KeyError, TypeError) as exc:
            answer = {"ok": False, "error": {"type": "ProtocolError", "args": [str(exc)]}}
            retire, payload = True, b""
        if limits.baseline and address_space() > limits.baseline + RETIRE_GROWTH_BYTES:
            retire = True
        if retire:
            answer["retire"] = True
            payload = codec.dumps(answer)
        write_frame(answers, payload)
        if retire:
            return


def run() -> None:
    """The worker's entry point (``python -m engine.sandbox.child`` works too)."""
    try:
        main()
    except BaseException:  # noqa: BLE001 - a dying worker says why on the parent's stderr
        traceback.print_exc(file=sys.stderr)
        os._exit(3)


if __name__ == "__main__":
    run()
