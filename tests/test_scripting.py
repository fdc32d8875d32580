"""The restricted script environment and the safe reading of model files."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.errors import ScriptError
from engine.parsing import (
    ISO_DURATION,
    MAX_FILE_BYTES,
    FileRefused,
    check_designer_code,
    read_model_file,
)
from engine.sandbox.pool import SandboxPool
from engine.scripting import RestrictedEnvironment, check_expression, check_script


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment(time_limit_s=0.2)


# --- what designers may do ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("100 / 8", 12.5),
        ("2 ** 10", 1024),
        ("7 // 2, 7 % 2", (3, 1)),
        ("round(math.sqrt(16))", 4),
        ("'ab' * 3", "ababab"),
        ("max([3, 9, 1]) - min([3, 9, 1])", 8),
        ("sum(x * 2 for x in range(5))", 20),
        ("sorted({'b': 1, 'a': 2})", ["a", "b"]),
    ],
)
def test_arithmetic_and_builtins_evaluate(env, expression, expected):
    assert env.evaluate(expression, {}) == expected


def test_expression_reads_task_data(env):
    data = {"order": {"items": [{"qty": 3, "price": 2.5}], "vip": True}, "amount": 5000}

    assert env.evaluate("order['items'][0]['qty'] * order['items'][0]['price']", data) == 7.5
    assert env.evaluate("amount > 1000 and order['vip']", data) is True
    assert env.evaluate("order.get('missing', 'none')", data) == "none"
    assert env.evaluate("len(order['items'])", data) == 1


def test_expression_uses_the_date_helpers(env):
    assert env.evaluate("(datetime(2030, 1, 2) + timedelta(days=3)).day", {}) == 5
    assert env.evaluate("json_loads(json_dumps({'a': [1]}))", {}) == {"a": [1]}


def test_script_reads_and_updates_task_data(env):
    data = {"prices": [10, 20, 30], "count": 1}

    env.execute("total = sum(prices)\ncount = count + 1\nprices.append(40)", data)

    assert data == {"prices": [10, 20, 30, 40], "count": 2, "total": 60}


def test_script_can_catch_its_own_errors(env):
    data = {}
    env.execute("try:\n    x = 1 / 0\nexcept ZeroDivisionError as e:\n    error = str(e)", data)
    assert data == {"error": "division by zero"}


def test_script_deleting_a_variable_removes_it_from_the_data(env):
    data = {"keep": 1, "scratch": 2}
    env.execute("del scratch", data)
    assert data == {"keep": 1}


def test_script_new_variables_land_in_the_data_but_functions_and_modules_do_not(env):
    data = {"n": 3}

    env.execute(
        "def double(x):\n"
        "    return x * 2\n"
        "square = lambda x: x * x\n"
        "m = math\n"
        "f = sum\n"
        "result = double(n) + square(n)\n"
        "when = datetime(2030, 1, 1)\n",
        data,
    )

    assert data == {"n": 3, "result": 15, "when": datetime(2030, 1, 1)}


def test_script_does_not_leak_the_injected_helpers_into_the_data(env):
    data = {}
    env.execute("x = 1", data)
    assert data == {"x": 1}


def test_script_may_shadow_a_helper_name_with_data(env):
    data = {}
    env.execute("math = 3", data)
    assert data == {"math": 3}


# --- what is refused ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "from os import path",
        "import subprocess as sp",
    ],
)
def test_imports_are_refused_at_compile_time(env, source):
    with pytest.raises(ScriptError, match="imports are not allowed"):
        env.execute(source, {})
    with pytest.raises(ScriptError):
        check_script(source)


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os')",
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "(lambda: 1).__code__",
        "math.__dict__",
        "amount.__class__",
        "_secret",
        "eval('1')",
        "exec('x = 1')",
        "breakpoint()",
    ],
)
def test_underscore_names_eval_and_exec_are_refused_at_compile_time(env, expression):
    with pytest.raises(ScriptError):
        env.evaluate(expression, {"amount": 1})
    with pytest.raises(ScriptError):
        check_expression(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "open('/etc/passwd')",
        "compile('1', 'x', 'exec')",
        "getattr(1, '__class__')",
        "setattr",
        "vars()",
        "globals()",
        "locals()",
        "type(1)",
        "input()",
    ],
)
def test_dangerous_builtins_are_not_defined(env, expression):
    check_expression(expression)  # compiles; the name is simply absent at run time
    with pytest.raises(NameError):
        env.evaluate(expression, {})


def test_str_format_cannot_reach_attributes(env):
    with pytest.raises(NotImplementedError):
        env.evaluate("'{0.__class__}'.format(1)", {})


def test_class_definitions_are_refused(env):
    with pytest.raises(NameError):
        env.execute("class A:\n    pass", {})


def test_refused_script_leaves_the_data_alone(env):
    data = {"a": 1}
    with pytest.raises(ScriptError):
        env.execute("b = 2\nimport os", data)
    assert data == {"a": 1}


# --- resource limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",
        "while True:\n    x = 1",
        "x = 0\nwhile x >= 0:\n    x += 1",
        "for i in range(10**6):\n    for j in range(10**6):\n        pass",
        "x = [[j for j in range(10**6)] for i in range(10**6)]",
    ],
)
def test_endless_loop_is_stopped_by_the_time_limit(env, script):
    started = time.monotonic()
    with pytest.raises(ScriptError, match="time limit"):
        env.execute(script, {})
    assert time.monotonic() - started < 2


def test_endless_loop_in_an_expression_is_stopped_by_the_time_limit(env):
    with pytest.raises(ScriptError, match="time limit"):
        env.evaluate("[i for i in range(10**6) for j in range(10**6)]", {})


def test_time_limit_applies_per_run(env):
    with pytest.raises(ScriptError):
        env.execute("while True: pass", {})
    data = {}
    env.execute("x = sum(range(1000))", data)
    assert data == {"x": 499500}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("2 ** 100000", "power result too large"),
        ("10 ** 10 ** 6", "power result too large"),
        ("'x' * 10**9", "repeated sequence would exceed"),
        ("10**9 * 'x'", "repeated sequence would exceed"),
        ("[0] * 10**7", "repeated sequence would exceed"),
        ("1 << 100000", "shift result too large"),
        ("range(10**9)", "range would exceed"),
        ("list(range(0, 10**12, 2))", "range would exceed"),
        ("pow(3, 30000000)", "power result too large"),
        ("('a' * 20000).replace('a', 'a' * 20000)", "replaced string would exceed"),
        ("'a'.ljust(300000000)", "padded string would exceed"),
        ("('x' * 900000) + ('y' * 900000)", "joined sequence would exceed"),
        ("(2 ** 30000) * (2 ** 30000) * (2 ** 30000)", "product too large"),
    ],
)
def test_huge_results_are_refused_before_they_are_computed(env, source, message):
    with pytest.raises(ScriptError, match=message):
        env.evaluate(source, {})


@pytest.mark.parametrize(
    "script",
    [
        "x = 2\nx **= 100000",
        "s = 'x'\ns *= 10**9",
        "x = 1\nx <<= 100000",
        "s = 'x' * 1000\nfor i in range(20):\n    s += s",
        "l = [0] * 1000\nfor i in range(20):\n    l.extend(l)",
    ],
)
def test_huge_in_place_operations_are_refused(env, script):
    with pytest.raises(ScriptError):
        env.execute(script, {})


def test_moderate_sizes_are_allowed(env):
    assert env.evaluate("len('x' * 1000)", {}) == 1000
    assert env.evaluate("2 ** 64", {}) == 18446744073709551616
    assert env.evaluate("len(range(10**6))", {}) == 10**6


# --- values a script leaves behind must be storable -----------------------------------------


@pytest.mark.parametrize(
    ("script", "kind"),
    [
        ("pairs = zip([1], [2])", "zip"),
        ("names = {'a': 1}.keys()", "dict_keys"),
        ("numbers = map(str, [1])", "map"),
        ("gen = (i for i in range(3))", "generator"),
        ("day = date(2030, 1, 1)", "date"),
        ("raw = b'x'", "bytes"),
    ],
)
def test_values_json_cannot_hold_are_refused_by_name(env, script, kind):
    data = {"a": 1}
    name = script.split(" =")[0]
    with pytest.raises(ScriptError, match=f"'{name}': a value of type {kind}"):
        env.execute(script, data)
    assert data == {"a": 1}


def test_non_finite_numbers_are_refused(env):
    data = {}
    with pytest.raises(ScriptError, match="'n'"):
        env.execute("n = math.inf", data)
    assert data == {}


def test_converted_values_are_kept(env):
    data = {}
    env.execute(
        "pairs = list(zip([1], [2]))\nnames = list({'a': 1}.keys())\ntags = {'x'}\n"
        "day = date(2030, 1, 1).isoformat()",
        data,
    )
    assert data == {"pairs": [(1, 2)], "names": ["a"], "tags": {"x"}, "day": "2030-01-01"}


# --- reading model files -----------------------------------------------------------------

XML = b'<?xml version="1.0" encoding="UTF-8"?>\n'
BPMN = (
    XML + b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    b' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d">\n'
    b'<bpmn:process id="p">\n%s\n</bpmn:process>\n</bpmn:definitions>'
)


def refusal(name: str, content: bytes, *, check: bool = False) -> dict:
    with pytest.raises(FileRefused) as refused:
        model = read_model_file(name, content)
        if check:
            check_designer_code(model)
    return refused.value.problem.as_dict()


def test_bpmn_and_dmn_files_are_recognised():
    assert read_model_file("p.bpmn", BPMN % b"").kind == "bpmn"
    dmn = (Path(__file__).parent / "bpmn" / "visit_fee.dmn").read_bytes()
    assert read_model_file("visit_fee.dmn", dmn).kind == "dmn"


def test_external_entity_is_refused_naming_its_line():
    content = XML + (
        b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        b"&xxe;</bpmn:definitions>"
    )
    problem = refusal("xxe.bpmn", content)
    assert problem["message"] == "DOCTYPE and entity declarations are not allowed"
    assert problem["line"] == 2


def test_entity_expansion_bomb_is_refused():
    content = XML + b'<!doctype lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a/>'
    assert "DOCTYPE" in refusal("bomb.bpmn", content)["message"]


def test_file_over_the_size_limit_is_refused():
    problem = refusal("big.bpmn", b" " * (MAX_FILE_BYTES + 1))
    assert "larger than" in problem["message"]


def test_file_that_is_not_utf8_is_refused_with_its_line():
    problem = refusal("latin.bpmn", XML + b"<a>\n\xe9</a>")
    assert problem == {
        "file": "latin.bpmn",
        "line": 3,
        "element": None,
        "message": "file is not UTF-8 text",
    }


def test_malformed_xml_is_refused_with_its_line():
    problem = refusal("bad.bpmn", XML + b"<a>\n<b></a>")
    assert problem["line"] == 3
    assert problem["message"].startswith("malformed XML")


def test_xml_that_is_not_bpmn_or_dmn_is_refused():
    assert "not a BPMN 2.0 or DMN" in refusal("page.bpmn", XML + b"<html/>")["message"]


@pytest.mark.parametrize(
    ("body", "element", "message"),
    [
        (
            b'<bpmn:scriptTask id="s1"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
            "scriptTask s1",
            "script does not compile",
        ),
        (
            b'<bpmn:scriptTask id="s1"><bpmn:script>x = ().__class__</bpmn:script>'
            b"</bpmn:scriptTask>",
            "scriptTask s1",
            "script does not compile",
        ),
        (
            b'<bpmn:sequenceFlow id="f1" sourceRef="a" targetRef="b"><bpmn:conditionExpression>'
            b"__import__('os')</bpmn:conditionExpression></bpmn:sequenceFlow>",
            "sequenceFlow f1",
            "condition does not compile",
        ),
        (
            b'<bpmn:userTask id="u"><bpmn:extensionElements><spiffworkflow:preScript>'
            b"import sys</spiffworkflow:preScript></bpmn:extensionElements></bpmn:userTask>",
            "userTask u",
            "preScript does not compile",
        ),
        (
            b'<bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition><bpmn:timeDuration>'
            b"x._y</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
            "intermediateCatchEvent w",
            "timer expression does not compile",
        ),
        (
            b'<bpmn:userTask id="u"><bpmn:extensionElements><spiffworkflow:properties>'
            b'<spiffworkflow:property name="priority" value="500"/></spiffworkflow:properties>'
            b"</bpmn:extensionElements></bpmn:userTask>",
            "userTask u",
            "priority must be a whole number from 0 to 100",
        ),
    ],
)
def test_designer_code_that_does_not_compile_is_refused_naming_the_element(body, element, message):
    problem = refusal("p.bpmn", BPMN % body, check=True)
    assert problem["file"] == "p.bpmn"
    assert problem["element"] == element
    assert message in problem["message"]
    assert problem["line"] == 4


def test_designer_code_that_compiles_is_accepted():
    body = (
        b'<bpmn:scriptTask id="s1"><bpmn:script>total = amount * 2</bpmn:script>'
        b"</bpmn:scriptTask>"
        b'<bpmn:userTask id="u"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="dueIn" value="P2D"/>'
        b'<spiffworkflow:property name="title" value="f\'Order {order}\'"/>'
        b'<spiffworkflow:property name="priority" value="80"/>'
        b"</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )
    check_designer_code(read_model_file("p.bpmn", BPMN % body))


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("PT1H", True),
        ("P1D", True),
        ("PT1H30M", True),
        ("P1Y2M3DT4H5M6.5S", True),
        ("P2W", True),
        ("P", False),
        ("PT", False),
        ("1H", False),
        ("days * 2", False),
    ],
)
def test_iso_duration_pattern(text, matches):
    assert bool(ISO_DURATION.match(text)) is matches


def test_catching_the_time_limit_does_not_switch_it_off(env):
    script = (
        "try:\n    while True:\n        pass\nexcept Exception:\n    pass\nwhile True:\n    pass"
    )
    started = time.monotonic()
    with pytest.raises(ScriptError, match="time limit"):
        env.execute(script, {})
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "script",
    [
        "try:\n    x = 1\nexcept:\n    pass",
        "try:\n    x = 1\nexcept BaseException:\n    pass",
        "try:\n    x = 1\nfinally:\n    x = 2",
        "try:\n    x = 1\nexcept (ValueError, undefined_name):\n    pass",
        "x = f'{0:>{300000000}}'",
        "x = f'{0:>300000000}'",
    ],
)
def test_exception_handling_that_could_outlive_the_time_limit_is_refused(script):
    with pytest.raises(ScriptError):
        check_script(script)


def test_named_built_in_exceptions_may_be_caught(env):
    data = {"raw": "x"}
    env.execute("try:\n    n = int(raw)\nexcept (ValueError, TypeError):\n    n = 0", data)
    assert data["n"] == 0


def test_expensive_math_functions_are_not_offered(env):
    with pytest.raises(AttributeError, match="comb"):
        env.evaluate("math.comb(2000000, 1000000)", {})
    assert env.evaluate("math.floor(2.5) + math.sqrt(16)", {}) == 6.0


def test_a_script_may_not_leave_more_data_than_the_limit(env):
    with pytest.raises(ScriptError, match="characters of data"):
        env.execute("rows = ['x' * 900000, 'y' * 900000]", {})


# --- crossing into the sandbox process ------------------------------------------------------


def test_literals_and_bare_names_are_answered_without_a_sandbox_process():
    quiet = RestrictedEnvironment(pool=SandboxPool(1))

    assert quiet.evaluate('"PT4H"', {}) == "PT4H"
    assert quiet.evaluate("-5", {}) == -5
    assert quiet.evaluate("order", {"order": {"lines": [1, 2]}}) == {"lines": [1, 2]}

    assert quiet.pool.workers() == []


def test_a_bare_name_answers_a_copy_of_the_data(env):
    data = {"lines": [1, 2]}
    answer = env.evaluate("lines", data)
    answer.append(3)
    assert data == {"lines": [1, 2]}


def test_values_json_lacks_cross_both_ways_unchanged(env):
    data = {
        "when": datetime(2030, 1, 2, 3, 4, 5),
        "took": timedelta(days=1, seconds=2),
        "tags": {"a", "b"},
        "pair": (1, "x"),
        "by_number": {1: "one", 2: "two"},
        "tagged_looking": {"$": "datetime", "v": "2030-01-01"},
        "big": 2**20000,
    }
    original = dict(data)

    env.execute("later = when + took\nsize = len(tags) + len(pair) + len(by_number)", data)

    assert data == {**original, "later": datetime(2030, 1, 3, 3, 4, 7), "size": 6}
    assert env.evaluate("tagged_looking['$']", data) == "datetime"


def test_a_script_error_keeps_its_type_and_names_the_line(env):
    with pytest.raises(ZeroDivisionError) as raised:
        env.execute("a = 1\nb = a / 0", {})
    assert raised.value.__notes__ == ["script line 2"]


def test_deeply_nested_source_is_refused_not_crashed_on():
    for source in ("1" + "+1" * 100000, "-" * 100000 + "1", "(" * 100000 + "1" + ")" * 100000):
        with pytest.raises(ScriptError):
            check_expression(source)
