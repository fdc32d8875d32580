"""Designer code is bounded for real: the sandbox battery.

One case per vector class: time spent inside one C call (which no trace function sees),
memory, the size of what a script leaves, cyclic data, a condition that mutates, source too
deeply nested to compile. Each ends as an incident (or a ScriptError from the environment)
within the time limit plus a margin, leaves the test process's own memory where it was, and
the next script runs at once. The limit is short here (``LIMIT_S``) to keep the file fast.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from xml.sax.saxutils import escape

import pytest
from werkzeug.serving import make_server

from engine.commands import Deploy, StartInstance, execute
from engine.errors import DeploymentError, ScriptError
from engine.identity import SYSTEM_ACTOR
from engine.script_engine import script_engine
from engine.scripting import RestrictedEnvironment
from tests.helpers import incidents, instance, task_names

LIMIT_S = 0.5
MARGIN_S = 2.5  # grace, a worker's restart and a loaded CI machine
MAX_RSS_RISE_KB = 40 * 1024

# (vector, script): each spends its time or memory where the trace function cannot look.
C_CALL_TIME = {
    "pow3": "x = pow(3, 2**32000, 10**16000)",
    "format_width": "s = '%*d' % (10**9, 1)",
    "join": "s = 'x'.join(['a' * 999999] * 999999)",
    "translate": "s = ('x' * 10**6).translate({120: 'y' * 10**6})",
    "to_bytes": "b = (1).to_bytes(10**9, 'big')",
    "map_growing_list": "l = [1]\nn = len(list(map(l.append, l)))",
    "comprehension_bomb": "x = [[[0] * 1000 for i in range(1000)] for j in range(1000)]",
}
BIG_ALLOCATION = "rows = [[0] * 999999 for i in range(40)]"  # 320 MB of lists


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(script_engine.environment, "time_limit_s", LIMIT_S)
    return LIMIT_S


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment(time_limit_s=LIMIT_S)


def process(key: str, script: str) -> bytes:
    """start -> script task ``run`` -> user task ``after`` -> end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_{key}"
    targetNamespace="http://csm.test">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="run" />
    <bpmn:scriptTask id="run"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="run" targetRef="after" />
    <bpmn:userTask id="after"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def deploy(engine_env, key: str, script: str) -> None:  # noqa: ANN001
    with engine_env.session_factory() as session:
        execute(session, Deploy([(f"{key}.bpmn", process(key, script))]), SYSTEM_ACTOR)


def assert_next_script_runs(engine_env) -> None:  # noqa: ANN001
    deploy(engine_env, "next_one", "total = sum(range(5)) * 2")
    started = engine_env.run(StartInstance("next_one"))
    assert instance(engine_env.session_factory, started.id).variables["total"] == 20
    assert task_names(engine_env.session_factory, started.id) == ["after"]


def run_vector(engine_env, script: str) -> tuple[object, float, int]:  # noqa: ANN001
    """Start a process whose first step is ``script``; return its incident, the time the
    start took and how much this process's resident memory rose."""
    deploy(engine_env, "vector", script)
    before = rss_kb()
    started_at = time.monotonic()
    started = engine_env.run(StartInstance("vector"))
    took = time.monotonic() - started_at
    rise = rss_kb() - before
    assert instance(engine_env.session_factory, started.id).status == "incident"
    (incident,) = incidents(engine_env.session_factory, started.id)
    assert incident.activity == "run"
    assert task_names(engine_env.session_factory, started.id) == []
    return incident, took, rise


sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# --- time and memory spent inside one C call -------------------------------------------------


@sqlite_only
@pytest.mark.parametrize("vector", sorted(C_CALL_TIME))
def test_a_runaway_c_call_becomes_an_incident_within_the_limit(engine_env, short_limit, vector):
    incident, took, rise = run_vector(engine_env, C_CALL_TIME[vector])

    assert "limit" in incident.message
    assert took < short_limit + MARGIN_S
    assert rise < MAX_RSS_RISE_KB
    assert_next_script_runs(engine_env)


@sqlite_only
def test_a_big_allocation_is_stopped_at_the_memory_ceiling(engine_env, monkeypatch):
    # The default time limit, so that memory, not time, is what stops it on a slow machine.
    monkeypatch.setattr(script_engine.environment, "time_limit_s", 2.0)
    incident, took, rise = run_vector(engine_env, BIG_ALLOCATION)

    assert "memory limit of 256 MB" in incident.message
    assert took < 2.0 + MARGIN_S
    assert rise < MAX_RSS_RISE_KB
    assert_next_script_runs(engine_env)


def test_the_pow_of_three_arguments_is_killed_by_the_wall_clock(env):
    started = time.monotonic()
    with pytest.raises(ScriptError, match=f"time limit of {LIMIT_S:g} s"):
        env.evaluate("pow(3, 2**32000, 10**16000)", {})
    assert time.monotonic() - started < LIMIT_S + MARGIN_S
    assert env.evaluate("pow(3, 4, 5)", {}) == 1


def test_a_killed_worker_is_replaced(env):
    with pytest.raises(ScriptError):
        env.evaluate("pow(3, 2**32000, 10**16000)", {})
    before = set(env.pool.workers())

    assert env.evaluate("1 + 1", {}) == 2
    assert set(env.pool.workers()).isdisjoint(before) or not before


def test_a_python_loop_ends_at_the_deadline_without_a_restart(env):
    env.evaluate("1", {"x": 1})
    assert env.evaluate("x + 1", {"x": 1}) == 2
    (worker,) = env.pool.workers()

    with pytest.raises(ScriptError, match="time limit"):
        env.execute("while True:\n    pass", {})

    assert env.pool.workers() == [worker]


def test_threads_share_the_pool_and_each_gets_its_own_answer(env):
    results: dict[int, object] = {}

    def work(n: int) -> None:
        results[n] = env.evaluate("n * n + sum(range(n))", {"n": n})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert results == {n: n * n + sum(range(n)) for n in range(12)}
    assert len(env.pool.workers()) <= env.pool.size


def test_a_pool_inherited_through_fork_is_not_reused_by_the_child(env):
    assert env.evaluate("1 + 1", {}) == 2
    inherited = set(env.pool.workers())
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer with its own worker, then leave without cleanup
        try:
            answer = env.evaluate("2 + 2", {})
            os.write(write_end, json.dumps([answer, env.pool.workers()]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as pipe:
        answer, child_workers = json.loads(pipe.read())

    assert answer == 4
    assert child_workers and inherited.isdisjoint(child_workers)
    assert set(env.pool.workers()) == inherited
    assert env.evaluate("3 + 3", {}) == 6


RUNAWAY = "pow(3, 2**32000, 10**16000) > 0"
OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions'
    ' xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"'
    ' targetNamespace="http://csm.test">\n<bpmn:process id="other_paths" isExecutable="true">\n'
    '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step" />\n'
)
CLOSE = (
    '<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="after" />\n'
    '<bpmn:userTask id="after"><bpmn:incoming>f2</bpmn:incoming></bpmn:userTask>\n'
    "</bpmn:process>\n</bpmn:definitions>\n"
)
OTHER_PATHS = {
    "condition": (
        '<bpmn:exclusiveGateway id="step" default="f3"><bpmn:incoming>f1</bpmn:incoming>'
        "<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>"
        '<bpmn:sequenceFlow id="f3" sourceRef="step" targetRef="after" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="after">'
        f"<bpmn:conditionExpression>{RUNAWAY}</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:userTask id="after"><bpmn:incoming>f2</bpmn:incoming>'
        "<bpmn:incoming>f3</bpmn:incoming></bpmn:userTask>\n</bpmn:process>\n</bpmn:definitions>\n"
    ),
    "timer_expression": (
        '<bpmn:intermediateCatchEvent id="step"><bpmn:incoming>f1</bpmn:incoming>'
        '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:timerEventDefinition id="t"><bpmn:timeDuration>'
        f"'PT1H' if {RUNAWAY} else 'PT2H'</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>" + CLOSE
    ),
    "dmn_cell": (
        '<bpmn:businessRuleTask id="step"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
        "runaway_fee</spiffworkflow:calledDecisionId></bpmn:extensionElements>"
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
        "</bpmn:businessRuleTask>" + CLOSE
    ),
}
RUNAWAY_DMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="fees" name="Fees" namespace="http://t">
  <decision id="runaway_fee" name="Fee">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in"><inputExpression id="in_expr"><text>amount</text></inputExpression></input>
      <output id="out" name="fee" />
      <rule id="r"><inputEntry id="r_in"><text>-</text></inputEntry>
        <outputEntry id="r_out"><text>{RUNAWAY}</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
""".encode()


@sqlite_only
@pytest.mark.parametrize("path", sorted(OTHER_PATHS))
def test_conditions_timer_expressions_and_dmn_cells_are_bounded_too(engine_env, short_limit, path):
    files = [("other_paths.bpmn", (OPEN + OTHER_PATHS[path]).encode())]
    if path == "dmn_cell":
        files.append(("runaway_fee.dmn", RUNAWAY_DMN))
    with engine_env.session_factory() as session:
        execute(session, Deploy(files), SYSTEM_ACTOR)

    started_at = time.monotonic()
    started = engine_env.run(StartInstance("other_paths", variables={"amount": 1}))
    took = time.monotonic() - started_at

    (incident,) = incidents(engine_env.session_factory, started.id)
    assert "time limit" in incident.message or "time limit" in incident.details
    assert took < short_limit + MARGIN_S
    assert_next_script_runs(engine_env)


# --- what a script leaves, and what it is given ----------------------------------------------


@sqlite_only
def test_data_too_large_to_check_cheaply_is_refused_while_the_clock_runs(engine_env, short_limit):
    # A million references to one 1 MB string: cheap to make, a terabyte to serialize.
    incident, took, rise = run_vector(engine_env, "rows = ['a' * 999999] * 999999")

    assert "more than 1,000,000 characters of data" in incident.message
    assert took < short_limit + MARGIN_S
    assert rise < MAX_RSS_RISE_KB
    assert_next_script_runs(engine_env)


@sqlite_only
def test_cyclic_data_left_by_a_script_is_refused_with_a_clear_message(engine_env, short_limit):
    incident, took, rise = run_vector(engine_env, "x = []\nx.append(x)")

    assert "'x': a value that contains itself" in incident.message
    assert took < short_limit + MARGIN_S
    assert rise < MAX_RSS_RISE_KB
    assert_next_script_runs(engine_env)


def test_cyclic_task_data_is_refused_before_it_reaches_the_sandbox(env):
    loop: list = []
    loop.append(loop)

    with pytest.raises(ScriptError, match="'loop': a value that contains itself"):
        env.evaluate("len(loop) > 0", {"loop": loop})
    assert env.evaluate("len(other)", {"loop": loop, "other": [1, 2]}) == 2


def test_oversized_task_data_is_refused_cleanly(env):
    data = {"blob": ["x" * 1_000_000] * 5}

    with pytest.raises(ScriptError, match="larger than 4,000,000 characters"):
        env.execute("n = len(blob)", data)
    assert data == {"blob": ["x" * 1_000_000] * 5}


def test_only_the_variables_the_code_names_are_handed_to_it(env):
    loop: list = []
    loop.append(loop)
    data = {"loop": loop, "amount": 5}

    env.execute("doubled = amount * 2", data)

    assert data["doubled"] == 10
    assert data["loop"] is loop


# --- conditions cannot change task data ------------------------------------------------------


def test_a_condition_cannot_change_task_data(env):
    data = {"x": [], "order": {"lines": [1]}}

    assert env.evaluate("x.append(1) is None and order['lines'].pop() == 1", data) is True

    assert data == {"x": [], "order": {"lines": [1]}}


def test_a_gateway_condition_that_appends_leaves_the_variable_unchanged(engine_env):
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="http://csm.test">
  <bpmn:process id="mutating" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f3"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="yes">
      <bpmn:conditionExpression>{escape("x.append(1) is None")}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="no" />
    <bpmn:userTask id="yes"><bpmn:incoming>f2</bpmn:incoming></bpmn:userTask>
    <bpmn:userTask id="no"><bpmn:incoming>f3</bpmn:incoming></bpmn:userTask>
  </bpmn:process>
</bpmn:definitions>
""".encode()
    with engine_env.session_factory() as session:
        execute(session, Deploy([("mutating.bpmn", content)]), SYSTEM_ACTOR)

    started = engine_env.run(StartInstance("mutating", variables={"x": []}))

    assert task_names(engine_env.session_factory, started.id) == ["yes"]
    assert instance(engine_env.session_factory, started.id).variables["x"] == []


# --- source too deeply nested to compile -----------------------------------------------------

NESTED = {
    "parentheses": "x = " + "(" * 100000 + "1" + ")" * 100000,
    "lists": "x = " + "[" * 500 + "]" * 500,
    "operators": "x = 1" + " + 1" * 100000,
    "unary": "x = " + "-" * 100000 + "1",
    "conditional": "x = " + "1 if y else " * 20000 + "1",
}


@pytest.mark.parametrize("shape", sorted(NESTED))
def test_deeply_nested_source_is_refused_at_deploy_naming_the_element(engine_env, shape):
    with pytest.raises(DeploymentError) as refused:
        deploy(engine_env, "nested", NESTED[shape])

    (problem,) = refused.value.details
    assert problem["file"] == "nested.bpmn"
    assert problem["element"] == "scriptTask run"
    assert problem["line"] == 8
    assert "script does not compile" in problem["message"]
    assert "Traceback" not in problem["message"]


# --- the web process stays responsive --------------------------------------------------------


@sqlite_only
def test_other_requests_are_served_while_a_script_runs_away(api, monkeypatch):
    monkeypatch.setattr(script_engine.environment, "time_limit_s", 1.5)
    deploy(api.env, "vector", C_CALL_TIME["pow3"])
    server = make_server("127.0.0.1", 0, api.client.application, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/api/v1"
    headers = {**api.headers("admin"), "Content-Type": "application/json"}
    timings: dict[str, float] = {}

    def call(name: str, path: str, body: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + path, data=data, headers=headers)
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        timings[name] = time.monotonic() - started

    try:
        runaway = threading.Thread(
            target=call, args=("runaway", "/process-instances", {"process_key": "vector"})
        )
        runaway.start()
        time.sleep(0.3)  # the runaway request is inside its script now
        call("other", "/process-definitions")
        runaway.join(timeout=30)
    finally:
        server.shutdown()

    assert timings["runaway"] >= 1.5
    assert timings["other"] < 0.5 * timings["runaway"]
