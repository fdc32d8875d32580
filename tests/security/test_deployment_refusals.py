"""Deployment refuses what would fail later: DMN cells that do not compile, a DOCTYPE in any
encoding, a file with nothing executable, code too deeply nested to check. Each refusal names
file, line and element in the API's 422 details and in ``csm deploy``'s message."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner

from tests.conftest import BPMN_DIR
from webapp.cli import cli

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn(*, input_expression: str = "amount", entry: str = "&gt; 10", output: str = "1") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{DMN_NS}" id="defs" name="Fees" namespace="http://csm.test">
  <decision id="fee" name="Fee">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in_amount" label="Amount">
        <inputExpression id="in_amount_expr" typeRef="number"><text>{input_expression}</text>
        </inputExpression>
      </input>
      <output id="out_fee" name="fee" typeRef="number" />
      <rule id="big">
        <inputEntry id="big_in"><text>{entry}</text></inputEntry>
        <outputEntry id="big_out"><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
""".encode()


BPMN_OPEN = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"'
    ' targetNamespace="http://csm.test">\n'
)
RUNNABLE = (
    BPMN_OPEN + '<bpmn:process id="plain" isExecutable="true">'
    '<bpmn:startEvent id="start" /></bpmn:process>\n</bpmn:definitions>\n'
)
WITH_DOCTYPE = (
    '<?xml version="1.0" encoding="{encoding}"?>\n'
    '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' + RUNNABLE
)


def upload(api, name: str, content: bytes):  # noqa: ANN001, ANN201
    data = {"files": [(io.BytesIO(content), name)]}
    return api.post("/deployments", "admin", data=data, content_type="multipart/form-data")


def refusal(api, name: str, content: bytes) -> dict:  # noqa: ANN001
    response = upload(api, name, content)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid_deployment"
    assert "Traceback" not in body["message"]
    (detail,) = body["details"]
    assert detail["file"] == name
    return detail


# --- DMN cells are compiled like scripts -----------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "element", "what", "line"),
    [
        (
            {"input_expression": "amount.__class__"},
            "inputExpression in_amount_expr",
            "input expression",
            6,
        ),
        ({"entry": "__import__('os')"}, "inputEntry big_in", "input entry", 11),
        ({"entry": "&gt; _secret"}, "inputEntry big_in", "input entry", 11),
        ({"entry": "0 &lt; ? &lt; ().__class__"}, "inputEntry big_in", "input entry", 11),
        ({"output": "import os"}, "outputEntry big_out", "output entry", 12),
        ({"output": "[" * 500 + "]" * 500}, "outputEntry big_out", "output entry", 12),
    ],
)
def test_a_dmn_cell_that_does_not_compile_is_refused_naming_it(api, cells, element, what, line):
    detail = refusal(api, "fee.dmn", dmn(**cells))

    assert detail["element"] == element
    assert detail["line"] == line
    assert f"{what} does not compile" in detail["message"]
    assert api.get("/process-definitions").get_json()["items"] == []


def test_a_dmn_cell_nested_too_deeply_to_compile_is_refused_naming_it(api):
    detail = refusal(api, "fee.dmn", dmn(entry="&gt; " + "-" * 100000 + "1"))

    assert detail["element"] == "inputEntry big_in"
    assert "nested too deeply" in detail["message"]


def test_dmn_cells_that_compile_deploy(api):
    content = dmn(entry="0 &lt;= ? &lt;= 10", output="amount * 2")

    response = upload(api, "fee.dmn", content)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["definitions"][0]["key"] == "fee"


def test_the_products_decision_tables_deploy():
    from engine.parsing import check_decision_code, read_model_file

    for path in sorted((BPMN_DIR.parent.parent / "bpmn").glob("*.dmn")):
        check_decision_code(read_model_file(path.name, path.read_bytes()))


# --- a DOCTYPE is found in the parsed document, whatever its encoding -------------------------


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("UTF-16", lambda text: text.encode("utf-16")),  # with a byte-order mark
        ("UTF-16", lambda text: text.encode("utf-16-le")),  # none: a byte search misses it
        ("UTF-8", lambda text: text.encode("utf-8-sig")),
    ],
    ids=["utf-16", "utf-16-without-bom", "utf-8-with-bom"],
)
def test_a_doctype_is_refused_in_any_encoding(api, encoding, encode):
    detail = refusal(api, "xxe.bpmn", encode(WITH_DOCTYPE.format(encoding=encoding)))

    assert detail["message"] == "DOCTYPE and entity declarations are not allowed"
    assert detail["line"] == 2


def test_a_utf16_file_without_doctype_is_refused_as_not_utf8(api):
    text = '<?xml version="1.0" encoding="UTF-16"?>\n' + RUNNABLE

    detail = refusal(api, "plain.bpmn", text.encode("utf-16-le"))

    assert "not UTF-8 text" in detail["message"]


def test_a_utf8_file_with_a_byte_order_mark_deploys(api):
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + RUNNABLE

    response = upload(api, "plain.bpmn", text.encode("utf-8-sig"))

    assert response.status_code == 201, response.get_json()


# --- a file must hold something to run -------------------------------------------------------


def test_a_file_whose_processes_are_all_not_executable_is_refused(api):
    content = (
        BPMN_OPEN + '<bpmn:process id="sketch" isExecutable="false">'
        '<bpmn:startEvent id="start" /></bpmn:process>\n</bpmn:definitions>\n'
    ).encode()

    detail = refusal(api, "sketch.bpmn", content)

    assert detail["element"] == "process sketch"
    assert detail["line"] == 2
    assert 'isExecutable="false"' in detail["message"]


def test_a_file_without_a_process_is_refused(api):
    detail = refusal(api, "empty.bpmn", (BPMN_OPEN + "</bpmn:definitions>\n").encode())

    assert detail["element"] == "definitions d"
    assert "holds no process" in detail["message"]


def test_csm_deploy_names_file_line_and_element_of_a_bad_dmn_cell(
    database_url, monkeypatch, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    path = tmp_path / "fee.dmn"
    path.write_bytes(dmn(entry="__import__('os')"))

    result = CliRunner().invoke(cli, ["deploy", str(path)], catch_exceptions=False)

    assert result.exit_code == 1
    assert f"{path}:11 (inputEntry big_in): input entry does not compile" in result.output
    assert "Traceback" not in result.output
