"""Engine benchmark: prints ``name: value unit`` lines and asserts nothing.

Run from the repository root (``DATABASE_URL`` naming PostgreSQL adds the ``_pg`` figures)::

    .venv/bin/python -m bench.engine                 # everything, default sizes (~10 min)
    .venv/bin/python -m bench.engine --quick         # small sizes, a smoke run
    .venv/bin/python -m bench.engine --only floor_ms,complete_ms
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.engine

Every database is a scratch one: a temporary SQLite file, or on PostgreSQL a database of its
own created next to the one ``DATABASE_URL`` names, built by the real migrations and dropped at
the end. Nothing here is a test; the numbers depend on the machine and are for comparison.

The figures
-----------
``floor_ms``
    SpiffWorkflow alone, in memory, no database: what a developer using SpiffWorkflow directly
    pays per completion. One cycle deserializes the whole workflow with the stock
    ``BpmnWorkflowSerializer`` (``SPIFF_CONFIG``, spec included), finds the READY user task,
    sets data, ``run()``, ``do_engine_steps()`` and serializes again; the process is a
    generated chain of 10 user tasks (parsed by the stock ``SpiffBpmnParser``) and the cycle
    completes its first task, like ``complete_ms``. Median of many cycles. Limited by
    SpiffWorkflow's (de)serialization and task-tree walks; pure CPU.
``complete_ms`` / ``complete_ms_pg``
    The same step through the engine: ``execute(session, Complete(...), actor)`` with a new
    session each, on the first task of many freshly started instances of the same chain, on
    SQLite (temporary file) and PostgreSQL. Median. Adds the database round trips (load the
    task and instance, update the instance, project human tasks, timers and message
    subscriptions, write an audit row, commit), the SQLAlchemy unit of work, history pruning
    and the projections' own task-tree walks. On SQLite a commit is a file sync; on
    PostgreSQL each statement is a network round trip plus the WAL flush at commit.
``overhead_ratio`` / ``overhead_ratio_pg``
    ``complete_ms`` over a floor cycle timed right before each Complete (interleaved one for
    one, ``floor_ms_beside_complete*``), so both see the same machine: what the engine costs
    on top of SpiffWorkflow itself.
``script_cost_ms`` / ``script_cost_ms_inprocess`` / ``complete_ms_beside_script``
    The Complete command (SQLite) on the first user task of fresh instances of a process
    whose next step is a 10-line script task (arithmetic, a list, an f-string, a method call
    on task data), so the completion runs the script before it saves; median. The script runs
    in a sandbox worker process (``script_cost_ms``) or, for comparison, through the same
    request handler called in this process (``script_cost_ms_inprocess``: RestrictedPython,
    guards and trace deadline without the process, which is what scripts cost before the
    sandbox). Interleaved with a Complete on the same process without the script task
    (``complete_ms_beside_script``): the differences are what one script step costs.
``complete_ms_at_0`` / ``complete_ms_at_500`` / ``at_500_ratio``
    The Complete command (SQLite) on an instance of ``tests/bpmn/loop.bpmn`` (it repeats a
    user task while ``again == True``) that has already done 500 tasks, and on the first task
    of fresh instances of it, interleaved one for one; medians. A ratio near 1 means history
    does not make instances slower (the engine prunes the finished part of the task tree;
    ``loop_state_bytes_*`` show the stored state size). Without pruning the state and every
    tree walk grow with the number of tasks done.
``completions_per_s_pg``
    Two worker processes (multiprocessing), each completing the open tasks of its own
    instances of the chain through the Complete command on PostgreSQL, for a fixed wall time.
    No conflicts between them, so this is the CPU- and commit-bound throughput of the engine
    on this machine; the client, both workers and PostgreSQL share the same cores.
``inbox_p95_ms_pg`` / ``inbox_p95_ms``
    ``list_tasks`` with ``TaskFilter(candidate=True)``, page size 50 (which also counts the
    total), for actors with 5 of 50 candidate groups, at ``--tasks`` human_task rows on
    PostgreSQL (default 1,000,000) and ``--sqlite-tasks`` on SQLite (default 100,000). The rows
    are bulk-loaded with SQL straight into ``human_task`` and ``task_candidate``: 20% open (a
    quarter of those claimed), 10% with two candidate groups, priorities from a skewed set,
    creation times spread over a year (open ones over 30 days), all pointing at a handful of
    process instances; ``task_candidate`` rows exist only for open tasks. ANALYZE
    after loading. p95 over ~200 queries with varying users and group sets, each in a new
    session. The page reads each group's first rows in the order of the index on
    ``task_candidate`` (group, claimed, priority DESC, created_at, task_id) and merges them,
    so its cost follows the page depth and the number of groups, not the table size nor how
    many tasks wait; the total counts at most 1,000 tasks (``total_exact`` is false beyond),
    The tasks belong to 300 outlets under 10 centers; ``inbox_center_p95_ms_pg`` and
    ``inbox_outlet_p95_ms_pg`` are the same query for users whose data scope is one center
    (its 30 outlets) or one outlet,
    so ``inbox*_median_total`` saturates near 1,000.
``timers_fired_per_s`` / ``timer_lateness_p99_s``
    ``--timers`` instances (default 10,000) of a generated process that waits on a ``PT1S``
    duration timer, started through StartInstance; once every timer is due,
    ``engine.scheduler.fire_due_timers`` runs with 2 worker processes on PostgreSQL when
    ``DATABASE_URL`` names it, else with one on SQLite. Throughput is fired timers per second
    of firing. Lateness is when the fire command wrote its audit row minus the later of the
    timer's due time and the moment firing started, so it measures the scheduler working off
    a burst of due timers (p99 is about 0.99 * N / throughput), not how long the bench took to
    create them. ``timers_workers`` says how many processes fired.
``phase_*_s``, ``load_avg_1m_*``
    Wall time of the bench's phases, so a slow run shows where it spent its time, and the
    machine's load average: other work on the machine makes every figure worse.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import queue
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make ``engine`` the package, not this file
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import sqlalchemy as sa  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from engine.commands import Complete, Deploy, StartInstance, execute  # noqa: E402
from engine.db import make_engine, make_session_factory, normalize_url  # noqa: E402
from engine.identity import SYSTEM_ACTOR, Actor  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.models import AuditEntry, HumanTask, ProcessInstance, Timer, utcnow  # noqa: E402
from engine.queries import Page, TaskFilter, list_tasks  # noqa: E402
from engine.sandbox import codec as sandbox_codec  # noqa: E402
from engine.sandbox.child import handle as handle_request  # noqa: E402
from engine.sandbox.restricted import base_globals  # noqa: E402
from engine.scheduler import fire_due_timers  # noqa: E402
from engine.script_engine import script_engine  # noqa: E402
from forms.binding import install as install_forms  # noqa: E402

install_forms()  # completions are checked against their forms, as in the web app and worker

ROOT = Path(__file__).resolve().parent.parent
LOOP_BPMN = ROOT / "tests" / "bpmn" / "loop.bpmn"
LOOP_FORM = ROOT / "tests" / "bpmn" / "loop_round.form.json"
PG_URL = os.environ.get("DATABASE_URL", "")
HAS_PG = PG_URL.startswith(("postgres://", "postgresql"))
WORKER = Actor("bench", frozenset({"workers"}))
# the generated processes have no lanes, and only administrators start such a process
STARTER = Actor("bench", frozenset({"workers"}), is_admin=True)
DATA = {"approved": True, "comment": "looks fine", "amount": 42}
# the form of every generated user task: a completion carries only what its form declares
STEP_FORM = (
    "bench_step.form.json",
    json.dumps(
        {
            "key": "bench_step",
            "schema": {
                "type": "object",
                "properties": {
                    "approved": {"type": "boolean"},
                    "comment": {"type": "string", "maxLength": 200},
                    "amount": {"type": "number"},
                },
            },
        }
    ).encode(),
)
CHAIN_LENGTH = 10
INBOX_GROUPS = 50
INBOX_OUTLETS = 300  # the bulk-loaded tasks belong to 300 outlets under 10 centers
INBOX_CENTERS = 10

# --only takes a figure name or a group name; a group measures all its figures.
GROUPS = {
    "floor": ["floor_ms"],
    "complete": ["complete_ms", "overhead_ratio"],
    "complete_pg": ["complete_ms_pg", "overhead_ratio_pg"],
    "script": ["script_cost_ms", "script_cost_ms_inprocess"],
    "loop": ["complete_ms_at_0", "complete_ms_at_500", "at_500_ratio"],
    "throughput_pg": ["completions_per_s_pg"],
    "inbox": ["inbox_p95_ms", "inbox_outlet_p95_ms"],
    "inbox_pg": ["inbox_p95_ms_pg", "inbox_center_p95_ms_pg", "inbox_outlet_p95_ms_pg"],
    "timers": ["timers_fired_per_s", "timer_lateness_p99_s"],
}
PG_GROUPS = {"complete_pg", "throughput_pg", "inbox_pg"}


# --------------------------------------------------------------------------- output


def emit(name: str, value: float, unit: str) -> None:
    if isinstance(value, int):
        text = str(value)
    else:
        text = f"{value:.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    print(f"{name}: {text} {unit}", flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        emit(f"phase_{name}_s", time.perf_counter() - started, "s")


# --------------------------------------------------------------------------- BPMN

DEFINITIONS_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs_{key}" targetNamespace="http://csm.bench">\n'
)


def _user_task(task_id: str, name: str, incoming: str, outgoing: str) -> str:
    return (
        f'<bpmn:userTask id="{task_id}" name="{name}">'
        "<bpmn:extensionElements><spiffworkflow:properties>"
        '<spiffworkflow:property name="candidateGroups" value="workers" />'
        '<spiffworkflow:property name="formKey" value="bench_step" />'
        "</spiffworkflow:properties></bpmn:extensionElements>"
        f"<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>"
        "</bpmn:userTask>\n"
    )


def chain_bpmn(length: int = CHAIN_LENGTH) -> bytes:
    """A lane-less process of ``length`` sequential user tasks."""
    parts = [
        DEFINITIONS_OPEN.format(key="chain"),
        '<bpmn:process id="chain" name="Chain of user tasks" isExecutable="true">\n',
        '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>\n',
    ]
    previous = "start"
    for i in range(1, length + 1):
        parts.append(
            f'<bpmn:sequenceFlow id="f{i - 1}" sourceRef="{previous}" targetRef="t{i}"/>\n'
        )
        parts.append(_user_task(f"t{i}", f"Step {i}", f"f{i - 1}", f"f{i}"))
        previous = f"t{i}"
    parts.append(f'<bpmn:sequenceFlow id="f{length}" sourceRef="{previous}" targetRef="end"/>\n')
    parts.append(
        f'<bpmn:endEvent id="end"><bpmn:incoming>f{length}</bpmn:incoming></bpmn:endEvent>'
    )
    parts.append("</bpmn:process>\n</bpmn:definitions>\n")
    return "".join(parts).encode()


SCRIPT_LINES = (
    "subtotal = amount * 2",
    "tax = round(subtotal * 0.13, 2)",
    "total = subtotal + tax",
    "level = 'high' if total > 100 else 'low'",
    "items = [amount, subtotal, tax]",
    "count = len(items)",
    "label = f'{level}:{count}'",
    "flagged = bool(approved) and total > 50",
    "note = comment.upper()",
    "score = sum(items) / count",
)


def script_bpmn(with_script: bool = True) -> bytes:
    """start -> user task -> 10-line script task -> user task -> end; without the script
    the same process with the two user tasks joined directly (its baseline)."""
    key = "bench_script" if with_script else "bench_no_script"
    middle = (
        '<bpmn:sequenceFlow id="f1" sourceRef="t1" targetRef="calc"/>\n'
        '<bpmn:scriptTask id="calc" name="Calculate">'
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
        f"<bpmn:script>{chr(10).join(SCRIPT_LINES)}</bpmn:script></bpmn:scriptTask>\n"
        '<bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="t2"/>\n'
        if with_script
        else '<bpmn:sequenceFlow id="f1" sourceRef="t1" targetRef="t2"/>\n'
    )
    return (
        DEFINITIONS_OPEN.format(key=key)
        + f'<bpmn:process id="{key}" name="A script step" isExecutable="true">\n'
        '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="t1"/>\n'
        + _user_task("t1", "Enter", "f0", "f1")
        + middle
        + _user_task("t2", "Check", "f2" if with_script else "f1", "f3")
        + '<bpmn:sequenceFlow id="f3" sourceRef="t2" targetRef="end"/>\n'
        '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>\n'
        "</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def timer_bpmn() -> bytes:
    """start -> wait PT1S -> user task -> end."""
    return (
        DEFINITIONS_OPEN.format(key="timer")
        + '<bpmn:process id="bench_timer" name="Wait a second" isExecutable="true">\n'
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>\n'
        '<bpmn:intermediateCatchEvent id="wait" name="One second">'
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
        '<bpmn:timerEventDefinition id="t1"><bpmn:timeDuration>"PT1S"</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n"
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after"/>\n'
        + _user_task("after", "After the wait", "f2", "f3")
        + '<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>\n'
        '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>\n'
        "</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


# --------------------------------------------------------------------------- databases


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="csm_bench_") as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite'}"
        upgrade(url)
        yield url


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A scratch database on the server DATABASE_URL names, migrated, dropped at the end."""
    base = make_url(normalize_url(PG_URL))
    name = f"csm_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def sessions(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def deploy(
    factory: sessionmaker[Session],
    name: str,
    content: bytes,
    form: tuple[str, bytes] = STEP_FORM,
) -> None:
    """Deploy a diagram with the form its user tasks name (unchanged forms store nothing)."""
    with factory() as session:
        execute(session, Deploy([(name, content), form]), SYSTEM_ACTOR)


def start(factory: sessionmaker[Session], key: str, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        with factory() as session:
            ids.append(execute(session, StartInstance(key), STARTER).id)
    return ids


def open_task_ids(factory: sessionmaker[Session], instance_ids: list[int]) -> dict[int, str]:
    with factory() as session:
        rows = session.execute(
            sa.select(HumanTask.instance_id, HumanTask.id).where(
                HumanTask.status == "open", HumanTask.instance_id.in_(instance_ids)
            )
        )
        return dict(rows.all())


def complete(factory: sessionmaker[Session], task_id: str, data: dict[str, Any]) -> float:
    """Run one Complete command in a session of its own; return its wall time in ms."""
    started = time.perf_counter()
    with factory() as session:
        execute(session, Complete(task_id, data), WORKER)
    return (time.perf_counter() - started) * 1000


# --------------------------------------------------------------------------- floor


def floor_cycle() -> tuple[Callable[[], str], int]:
    """One SpiffWorkflow-alone completion cycle, and the size of the state it works on."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(chain_bpmn(), "chain.bpmn")
    spec, subprocess_specs = parser.get_spec("chain"), parser.get_subprocess_specs("chain")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    workflow = BpmnWorkflow(spec, subprocess_specs)
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)

    def cycle() -> str:
        loaded = serializer.deserialize_json(state)
        task = loaded.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(DATA)
        task.run()
        loaded.do_engine_steps()
        return serializer.serialize_json(loaded)

    return cycle, len(state)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure_floor(cycles: int) -> float:
    cycle, size = floor_cycle()
    for _ in range(min(50, cycles)):
        cycle()
    times = [timed(cycle) for _ in range(cycles)]
    emit("floor_state_bytes", size, "bytes")
    return statistics.median(times)


# --------------------------------------------------------------------------- complete


def measure_complete(url: str, instances: int) -> tuple[float, float, int]:
    """Median Complete and median floor cycle, interleaved one for one so both see the same
    machine; returns (complete_ms, floor_ms, state bytes)."""
    cycle, _ = floor_cycle()
    for _ in range(50):
        cycle()
    with sessions(url) as factory:
        deploy(factory, "chain.bpmn", chain_bpmn())
        ids = start(factory, "chain", instances)
        tasks = open_task_ids(factory, ids)
        times, floors = [], []
        for i in ids:
            floors.append(timed(cycle))
            times.append(complete(factory, tasks[i], DATA))
        with factory() as session:
            size = session.scalar(
                sa.select(sa.func.length(ProcessInstance.state)).where(ProcessInstance.id == ids[0])
            )
    return statistics.median(times), statistics.median(floors), size or 0


class InProcessSandbox:
    """The sandbox's request handler called in this process: RestrictedPython, the guards
    and the trace deadline, without the worker process (what scripts cost before it).
    For comparison only; nothing in the engine runs code this way."""

    def __init__(self) -> None:
        self.globals = base_globals()

    def run(self, request: dict[str, Any], *, time_limit_s: float, memory_mb: int) -> Any:
        message = {**request, "time_limit": time_limit_s, "memory_mb": memory_mb}
        answer, _ = handle_request(sandbox_codec.loads(sandbox_codec.dumps(message)), self.globals)
        return sandbox_codec.loads(sandbox_codec.dumps(answer))


@contextlib.contextmanager
def in_process_scripts() -> Iterator[None]:
    environment = script_engine.environment
    saved = environment._pool
    environment._pool = InProcessSandbox()
    try:
        yield
    finally:
        environment._pool = saved


def measure_script(url: str, instances: int) -> dict[str, float]:
    """Median Complete whose next step is the script task (in the sandbox, and in this
    process), and median Complete on the same process without it, interleaved."""
    with sessions(url) as factory:
        deploy(factory, "bench_no_script.bpmn", script_bpmn(with_script=False))
        deploy(factory, "bench_script.bpmn", script_bpmn())
        plain_ids = start(factory, "bench_no_script", instances + 10)
        script_ids = start(factory, "bench_script", 2 * (instances + 10))
        plain_tasks = open_task_ids(factory, plain_ids)
        script_tasks = open_task_ids(factory, script_ids)
        times: dict[str, list[float]] = {"sandbox": [], "in_process": [], "plain": []}
        for k, p in enumerate(plain_ids):
            plain_ms = complete(factory, plain_tasks[p], DATA)
            sandbox_ms = complete(factory, script_tasks[script_ids[2 * k]], DATA)
            with in_process_scripts():
                in_process_ms = complete(factory, script_tasks[script_ids[2 * k + 1]], DATA)
            if k >= 10:  # the first completions warm caches (and start the sandbox)
                times["plain"].append(plain_ms)
                times["sandbox"].append(sandbox_ms)
                times["in_process"].append(in_process_ms)
        with factory() as session:
            done = [session.get(ProcessInstance, i).variables for i in script_ids[:2]]
        if any(d.get("label") not in ("low:3", "high:3") for d in done):
            raise RuntimeError(f"the bench script did not run as written: {done}")
    return {name: statistics.median(values) for name, values in times.items()}


def measure_loop(url: str, depth: int, window: int) -> dict[str, float]:
    """Complete on a loop instance that has done ``depth`` tasks, and on fresh ones.

    The two are interleaved (a fresh instance's first task, then the deep instance's next
    task, and so on), so a change in the machine's load affects both medians alike.
    """
    with sessions(url) as factory:
        deploy(
            factory, "loop.bpmn", LOOP_BPMN.read_bytes(), (LOOP_FORM.name, LOOP_FORM.read_bytes())
        )
        deep, *fresh = start(factory, "loop", window + 1)

        def state_size(instance_id: int) -> int:
            with factory() as session:
                return len(session.get(ProcessInstance, instance_id).state)

        def step(instance_id: int, done: int) -> float:
            task_id = open_task_ids(factory, [instance_id])[instance_id]
            return complete(factory, task_id, {"again": True, "round": done})

        size_0 = state_size(deep)
        for done in range(depth):
            step(deep, done)
        at_0, at_depth = [], []
        for k, instance_id in enumerate(fresh):
            at_0.append(step(instance_id, 0))
            at_depth.append(step(deep, depth + k))
        size_depth = state_size(deep)
    return {
        "at_0": statistics.median(at_0),
        "at_depth": statistics.median(at_depth),
        "bytes_0": size_0,
        "bytes_depth": size_depth,
    }


# --------------------------------------------------------------------------- workers


class Workers:
    """Spawned processes that report ready, wait for one common start, then report a result.

    A target takes its own arguments followed by ``ready``, ``go`` and ``results``.
    """

    def __init__(self, target: Callable[..., None], args_list: list[tuple]) -> None:
        ctx = mp.get_context("spawn")
        self._ready, self._results, self._go = ctx.Queue(), ctx.Queue(), ctx.Event()
        self._procs = [
            ctx.Process(
                target=target,
                args=(*args, self._ready, self._go, self._results),
                daemon=True,
            )
            for args in args_list
        ]
        for proc in self._procs:
            proc.start()

    def _get(self, source: Any) -> Any:
        while True:
            try:
                return source.get(timeout=1)
            except queue.Empty:
                if any(proc.exitcode not in (None, 0) for proc in self._procs):
                    raise RuntimeError("a bench worker process failed") from None

    def start(self) -> None:
        """Wait until every worker is ready, then let them all go."""
        for _ in self._procs:
            self._get(self._ready)
        self._go.set()

    def results(self) -> list[Any]:
        outcomes = [self._get(self._results) for _ in self._procs]
        for proc in self._procs:
            proc.join()
        return outcomes


def _warm(factory: sessionmaker[Session]) -> None:
    """Open a pooled connection before the clock runs."""
    with factory() as session:
        session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance))


# --------------------------------------------------------------------------- throughput


def _throughput_worker(
    url: str, instance_ids: list[int], seconds: float, ready: Any, go: Any, results: Any
) -> None:
    with sessions(url) as factory:
        _warm(factory)
        ready.put(os.getpid())
        go.wait()
        done, ran_out = 0, True
        started = time.perf_counter()
        for instance_id in instance_ids:
            while ran_out:
                if time.perf_counter() - started >= seconds:
                    ran_out = False
                    break
                with factory() as session:
                    task_id = session.scalar(
                        sa.select(HumanTask.id).where(
                            HumanTask.instance_id == instance_id, HumanTask.status == "open"
                        )
                    )
                    if task_id is None:
                        break
                    execute(session, Complete(task_id, DATA), WORKER)
                    done += 1
            if not ran_out:
                break
        results.put((done, time.perf_counter() - started, ran_out))


def measure_throughput(url: str, workers: int, seconds: float, per_worker: int) -> float:
    with sessions(url) as factory:
        deploy(factory, "chain.bpmn", chain_bpmn())
        ids = start(factory, "chain", workers * per_worker)
    pool = Workers(_throughput_worker, [(url, ids[w::workers], seconds) for w in range(workers)])
    pool.start()
    outcomes = pool.results()
    total = sum(done for done, _, _ in outcomes)
    elapsed = max(took for _, took, _ in outcomes)
    if any(ran_out for _, _, ran_out in outcomes):
        print("note: a throughput worker ran out of tasks early", file=sys.stderr)
    emit("completions_pg_total", total, "completions")
    return total / elapsed


# --------------------------------------------------------------------------- inbox

PG_LOAD = """
INSERT INTO human_task (id, instance_id, process_key, business_key, name, title, lane,
    candidate_group, assignee, form_key, due_at, priority, status, created_at, claimed_at,
    completed_at, completed_by, org_path)
SELECT md5('bench' || i)::uuid::text,
    (CAST(:instances AS int[]))[1 + inst],
    'chain', 'BK-' || i, 't' || (1 + i % 10), 'Step ' || (1 + i % 10), NULL,
    CASE WHEN two THEN g1 || ',' || g2 ELSE g1 END,
    CASE WHEN is_open AND NOT claimed THEN NULL ELSE 'user_' || u END,
    NULL,
    CASE WHEN has_due THEN created + interval '7 days' END,
    prio,
    CASE WHEN is_open THEN 'open' ELSE 'completed' END,
    created,
    CASE WHEN claimed OR NOT is_open THEN created + interval '1 hour' END,
    CASE WHEN is_open THEN NULL ELSE created + interval '1 day' END,
    CASE WHEN is_open THEN NULL ELSE 'user_' || u END,
    '/1/' || (10 + outlet % :centers) || '/' || (1000 + outlet) || '/'
FROM (
    SELECT i, is_open, two, claimed, u, has_due, prio, inst, outlet,
        'group_' || lpad(ga::text, 2, '0') AS g1,
        'group_' || lpad(((ga + 1 + gb) % :groups)::text, 2, '0') AS g2,
        now() AT TIME ZONE 'UTC'
            - (CASE WHEN is_open THEN 30 ELSE 365 END) * random() * interval '1 day' AS created
    FROM (
        SELECT i, i % 5 = 0 AS is_open, random() < 0.1 AS two, random() < 0.25 AS claimed,
            floor(random() * 500)::int AS u, random() < 0.5 AS has_due,
            (ARRAY[10, 30, 50, 50, 50, 50, 70, 90])[1 + floor(random() * 8)::int] AS prio,
            floor(random() * :groups)::int AS ga, floor(random() * (:groups - 1))::int AS gb,
            floor(random() * :instance_count)::int AS inst,
            floor(random() * :outlets)::int AS outlet
        FROM generate_series(1, :count) AS i
    ) AS draws
) AS generated
"""

PG_CANDIDATES = """
INSERT INTO task_candidate (task_id, group_name, claimed, priority, created_at, org_path)
SELECT id, unnest(string_to_array(candidate_group, ',')), assignee IS NOT NULL, priority,
    created_at, org_path
FROM human_task WHERE status = 'open' AND business_key LIKE 'BK-%'
"""

# SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text.
SQLITE_LOAD = """
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :count),
draws AS MATERIALIZED (
    SELECT i, i % 5 = 0 AS is_open, abs(random()) % 10 = 0 AS two,
        abs(random()) % 4 = 0 AS claimed, abs(random()) % 500 AS u,
        abs(random()) % 2 = 0 AS has_due,
        CASE abs(random()) % 8 WHEN 0 THEN 10 WHEN 1 THEN 30 WHEN 6 THEN 70 WHEN 7 THEN 90
            ELSE 50 END AS prio,
        abs(random()) % :groups AS ga, abs(random()) % (:groups - 1) AS gb,
        abs(random()) % 86400 AS secs, abs(random()) % 365 AS days,
        abs(random()) % :instance_count AS inst, abs(random()) % :outlets AS outlet
    FROM seq
),
generated AS MATERIALIZED (
    SELECT *, 'group_' || printf('%02d', ga) AS g1,
        'group_' || printf('%02d', (ga + 1 + gb) % :groups) AS g2,
        datetime('now', '-' || (CASE WHEN is_open THEN days % 30 ELSE days END) || ' days',
            '-' || secs || ' seconds') AS created
    FROM draws
)
INSERT INTO human_task (id, instance_id, process_key, business_key, name, title, lane,
    candidate_group, assignee, form_key, due_at, priority, status, created_at, claimed_at,
    completed_at, completed_by, org_path)
SELECT lower(hex(randomblob(16))), json_extract(:instances, '$[' || inst || ']'),
    'chain', 'BK-' || i, 't' || (1 + i % 10), 'Step ' || (1 + i % 10), NULL,
    CASE WHEN two THEN g1 || ',' || g2 ELSE g1 END,
    CASE WHEN is_open AND NOT claimed THEN NULL ELSE 'user_' || u END,
    NULL,
    CASE WHEN has_due THEN datetime(created, '+7 days') || '.000000' END,
    prio,
    CASE WHEN is_open THEN 'open' ELSE 'completed' END,
    created || '.000000',
    CASE WHEN claimed OR NOT is_open THEN datetime(created, '+1 hours') || '.000000' END,
    CASE WHEN is_open THEN NULL ELSE datetime(created, '+1 days') || '.000000' END,
    CASE WHEN is_open THEN NULL ELSE 'user_' || u END,
    '/1/' || (10 + outlet % :centers) || '/' || (1000 + outlet) || '/'
FROM generated
"""

SQLITE_CANDIDATES = """
INSERT INTO task_candidate (task_id, group_name, claimed, priority, created_at, org_path)
SELECT id, CASE WHEN instr(candidate_group, ',') > 0
        THEN substr(candidate_group, 1, instr(candidate_group, ',') - 1)
        ELSE candidate_group END, assignee IS NOT NULL, priority, created_at, org_path
FROM human_task WHERE status = 'open' AND business_key LIKE 'BK-%'
UNION ALL
SELECT id, substr(candidate_group, instr(candidate_group, ',') + 1), assignee IS NOT NULL,
    priority, created_at, org_path
FROM human_task WHERE status = 'open' AND business_key LIKE 'BK-%'
    AND instr(candidate_group, ',') > 0
"""


def load_inbox(factory: sessionmaker[Session], count: int, postgres: bool) -> None:
    deploy(factory, "chain.bpmn", chain_bpmn())
    instance_ids = start(factory, "chain", 5)
    params = {
        "count": count,
        "groups": INBOX_GROUPS,
        "instance_count": len(instance_ids),
        "instances": instance_ids if postgres else json.dumps(instance_ids),
        "outlets": INBOX_OUTLETS,
        "centers": INBOX_CENTERS,
    }
    with factory() as session:
        if postgres:
            session.execute(sa.text("SELECT setseed(0.42)"))
            session.execute(sa.text(PG_LOAD), params)
            session.execute(sa.text(PG_CANDIDATES))
        else:
            session.execute(sa.text(SQLITE_LOAD), params)
            session.execute(sa.text(SQLITE_CANDIDATES))
        session.commit()
    with factory() as session:
        session.connection().execute(sa.text("ANALYZE"))
        session.commit()


def _scope(rng: random.Random, level: str) -> str | None:
    """The data scope of a user at HQ (None), a center or an outlet of the loaded tasks."""
    outlet = rng.randrange(INBOX_OUTLETS)
    center = f"/1/{10 + outlet % INBOX_CENTERS}/"
    return {"hq": None, "center": center, "outlet": f"{center}{1000 + outlet}/"}[level]


def measure_inbox(
    factory: sessionmaker[Session], queries: int, level: str = "hq"
) -> dict[str, float]:
    rng = random.Random(7)
    groups = [f"group_{g:02d}" for g in range(INBOX_GROUPS)]

    def one() -> tuple[float, int, int]:
        actor = Actor(
            f"user_{rng.randrange(500)}", frozenset(rng.sample(groups, 5)), scope=_scope(rng, level)
        )
        started = time.perf_counter()
        with factory() as session:
            page = list_tasks(session, actor, TaskFilter(candidate=True), Page(1, 50))
            rows, total = page.items, page.total
        return (time.perf_counter() - started) * 1000, len(rows), total

    for _ in range(5):
        one()
    results = [one() for _ in range(queries)]
    times = [ms for ms, _, _ in results]
    return {
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "total": statistics.median(total for _, _, total in results),
    }


# --------------------------------------------------------------------------- timers


def _start_worker(url: str, count: int, ready: Any, go: Any, results: Any) -> None:
    with sessions(url) as factory:
        _warm(factory)
        ready.put(os.getpid())
        go.wait()
        start(factory, "bench_timer", count)
    results.put(count)


def _fire_worker(url: str, limit: int, ready: Any, go: Any, results: Any) -> None:
    with sessions(url) as factory:
        _warm(factory)
        ready.put(os.getpid())
        go.wait()
        results.put(fire_due_timers(factory, limit=limit))


def measure_timers(url: str, count: int, workers: int) -> dict[str, float]:
    with sessions(url) as factory:
        deploy(factory, "bench_timer.bpmn", timer_bpmn())
    with phase("timers_create"):
        if workers > 1:
            shares = [count // workers + (1 if w < count % workers else 0) for w in range(workers)]
            pool = Workers(_start_worker, [(url, share) for share in shares])
            pool.start()
            pool.results()
        else:
            with sessions(url) as factory:
                start(factory, "bench_timer", count)
    with sessions(url) as factory:
        with factory() as session:
            latest = session.scalar(sa.select(sa.func.max(Timer.due_at)))
            waiting = session.scalar(sa.select(sa.func.count()).select_from(Timer))
        emit("timers_waiting", waiting, "timers")
        pause = (latest - utcnow()).total_seconds() + 0.05 if latest else 0
        if pause > 0:
            time.sleep(pause)

        with phase("timers_fire"):
            if workers > 1:
                pool = Workers(_fire_worker, [(url, count + 10)] * workers)
                pool.start()
                fire_start, started = utcnow(), time.perf_counter()
                fired = sum(pool.results())
            else:
                fire_start, started = utcnow(), time.perf_counter()
                fired = fire_due_timers(factory, limit=count + 10)
            elapsed = time.perf_counter() - started

        with factory() as session:
            rows = session.execute(
                sa.select(AuditEntry.at, AuditEntry.details).where(
                    AuditEntry.command == "fire_timer"
                )
            ).all()
    lateness = []
    for at, details in rows:
        due = datetime.fromisoformat(details["due_at"])
        lateness.append((at - max(due, fire_start)).total_seconds())
    return {
        "fired": fired,
        "per_s": fired / elapsed if elapsed else float("nan"),
        "p50": percentile(lateness, 50),
        "p99": percentile(lateness, 99),
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, help="human_task rows for inbox_p95_ms_pg")
    parser.add_argument("--sqlite-tasks", type=int, help="human_task rows for inbox_p95_ms")
    parser.add_argument("--timers", type=int, help="due timers to fire")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated figures or groups: " + ", ".join(GROUPS),
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.tasks = args.tasks or (20_000 if quick else 1_000_000)
    args.sqlite_tasks = args.sqlite_tasks or (10_000 if quick else 100_000)
    args.timers = args.timers or (200 if quick else 10_000)
    args.floor_cycles = 200 if quick else 2000
    args.instances = 30 if quick else 300
    args.loop_depth, args.loop_window = 500, (20 if quick else 50)
    args.throughput_seconds = 2.0 if quick else 5.0
    args.throughput_instances = 30 if quick else 100
    args.inbox_queries = 50 if quick else 200
    args.groups = selected_groups(parser, args.only)
    return args


def selected_groups(parser: argparse.ArgumentParser, only: str) -> set[str]:
    if not only.strip():
        return set(GROUPS)
    by_figure = {figure: group for group, figures in GROUPS.items() for figure in figures}
    chosen = set()
    for name in (n.strip() for n in only.split(",") if n.strip()):
        if name in GROUPS:
            chosen.add(name)
        elif name in by_figure:
            chosen.add(by_figure[name])
        else:
            parser.error(f"unknown figure or group {name!r}")
    return chosen


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    groups = args.groups
    if not HAS_PG and groups & PG_GROUPS:
        skipped = sorted(groups & PG_GROUPS)
        print(f"note: DATABASE_URL names no PostgreSQL; skipping {skipped}", file=sys.stderr)
        groups -= PG_GROUPS
    began = time.perf_counter()
    emit("load_avg_1m_at_start", os.getloadavg()[0], "load")

    floor = None
    if groups & {"floor", "complete", "complete_pg"}:
        with phase("floor"):
            floor = measure_floor(args.floor_cycles)
        emit("floor_ms", floor, "ms")

    if "complete" in groups:
        with phase("complete"), sqlite_database() as url:
            median, beside, size = measure_complete(url, args.instances)
        emit("engine_state_bytes", size, "bytes")
        emit("complete_ms", median, "ms")
        emit("floor_ms_beside_complete", beside, "ms")
        emit("overhead_ratio", median / beside, "x")

    if "complete_pg" in groups:
        with phase("complete_pg"), postgres_database() as url:
            median, beside, _ = measure_complete(url, args.instances)
        emit("complete_ms_pg", median, "ms")
        emit("floor_ms_beside_complete_pg", beside, "ms")
        emit("overhead_ratio_pg", median / beside, "x")

    if "script" in groups:
        with phase("script"), sqlite_database() as url:
            script = measure_script(url, args.instances)
        emit("script_cost_ms", script["sandbox"], "ms")
        emit("script_cost_ms_inprocess", script["in_process"], "ms")
        emit("complete_ms_beside_script", script["plain"], "ms")

    if "loop" in groups:
        with phase("loop"), sqlite_database() as url:
            loop = measure_loop(url, args.loop_depth, args.loop_window)
        emit("loop_state_bytes_at_0", loop["bytes_0"], "bytes")
        emit(f"loop_state_bytes_at_{args.loop_depth}", loop["bytes_depth"], "bytes")
        emit("complete_ms_at_0", loop["at_0"], "ms")
        emit(f"complete_ms_at_{args.loop_depth}", loop["at_depth"], "ms")
        emit(f"at_{args.loop_depth}_ratio", loop["at_depth"] / loop["at_0"], "x")

    if "throughput_pg" in groups:
        with phase("throughput_pg"), postgres_database() as url:
            rate = measure_throughput(url, 2, args.throughput_seconds, args.throughput_instances)
        emit("completions_per_s_pg", rate, "completions/s")

    if "inbox_pg" in groups:
        with postgres_database() as url, sessions(url) as factory:
            with phase("inbox_pg_load"):
                load_inbox(factory, args.tasks, postgres=True)
            with phase("inbox_pg_query"):
                inbox = measure_inbox(factory, args.inbox_queries)
                center = measure_inbox(factory, args.inbox_queries, "center")
                outlet = measure_inbox(factory, args.inbox_queries, "outlet")
        emit("inbox_pg_rows", args.tasks, "rows")
        emit("inbox_pg_median_total", inbox["total"], "tasks")
        emit("inbox_p50_ms_pg", inbox["p50"], "ms")
        emit("inbox_p95_ms_pg", inbox["p95"], "ms")
        emit("inbox_center_p95_ms_pg", center["p95"], "ms")
        emit("inbox_outlet_p95_ms_pg", outlet["p95"], "ms")

    if "inbox" in groups:
        with sqlite_database() as url, sessions(url) as factory:
            with phase("inbox_load"):
                load_inbox(factory, args.sqlite_tasks, postgres=False)
            with phase("inbox_query"):
                inbox = measure_inbox(factory, args.inbox_queries)
                outlet = measure_inbox(factory, args.inbox_queries, "outlet")
        emit("inbox_rows", args.sqlite_tasks, "rows")
        emit("inbox_median_total", inbox["total"], "tasks")
        emit("inbox_p50_ms", inbox["p50"], "ms")
        emit("inbox_p95_ms", inbox["p95"], "ms")
        emit("inbox_outlet_p95_ms", outlet["p95"], "ms")

    if "timers" in groups:
        workers = 2 if HAS_PG else 1
        database = postgres_database if HAS_PG else sqlite_database
        with database() as url:
            timers = measure_timers(url, args.timers, workers)
        emit("timers_workers", workers, "processes")
        emit("timers_fired", timers["fired"], "timers")
        emit("timers_fired_per_s", timers["per_s"], "timers/s")
        emit("timer_lateness_p50_s", timers["p50"], "s")
        emit("timer_lateness_p99_s", timers["p99"], "s")

    emit("load_avg_1m_at_end", os.getloadavg()[0], "load")
    emit("phase_total_s", time.perf_counter() - began, "s")


if __name__ == "__main__":
    main()
