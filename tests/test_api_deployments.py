"""The deployment API and the checks every deployed file passes."""

from __future__ import annotations

import io

import pytest

from tests.conftest import BPMN_DIR

BAD_FILES = {
    "malformed.bpmn": ("malformed XML", 5),
    "entity_bomb.bpmn": ("DOCTYPE", 2),
    "external_entity.bpmn": ("DOCTYPE", 2),
    "missing_target.bpmn": ("targetRef 'nowhere'", 5),
    "unsupported.bpmn": ("no support", 6),
    "bad_script.bpmn": ("imports are not allowed", 8),
    "bad_condition.bpmn": ("condition does not compile", 8),
    "not_bpmn.bpmn": ("not a BPMN 2.0 or DMN", 2),
    "unknown_called.bpmn": ("does_not_exist", 6),
    "unquoted_timer.bpmn": ('write the literal quoted, "PT1H"', 8),
}


def _upload(api, *files: tuple[str, bytes], user: str = "admin"):  # noqa: ANN202
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return api.post("/deployments", user, data=data, content_type="multipart/form-data")


def test_deploying_a_file_creates_version_one(api):
    response = api.deploy("exclusive.bpmn")
    assert response.status_code == 201
    assert response.get_json()["definitions"] == [
        {"key": "exclusive", "version": 1, "created": True, "kind": "bpmn"}
    ]


def test_redeploying_an_unchanged_file_is_a_no_op(api):
    api.deploy("exclusive.bpmn")
    response = api.deploy("exclusive.bpmn")
    assert response.status_code == 201
    assert response.get_json()["definitions"][0] == {
        "key": "exclusive",
        "version": 1,
        "created": False,
        "kind": "bpmn",
    }


def test_a_changed_file_makes_the_next_version(api):
    api.deploy("exclusive.bpmn")
    changed = (BPMN_DIR / "exclusive.bpmn").read_bytes().replace(b"Enter amount", b"Enter sum")
    response = _upload(api, ("exclusive.bpmn", changed))
    assert response.get_json()["definitions"][0]["version"] == 2
    listing = api.get("/process-definitions").get_json()["items"]
    assert listing[0]["key"] == "exclusive"
    assert listing[0]["latest_version"] == 2
    assert [v["version"] for v in listing[0]["versions"]] == [2, 1]


def test_several_files_deploy_together_and_call_activities_resolve(api):
    response = api.deploy("call_parent.bpmn", "call_child.bpmn")
    assert response.status_code == 201
    keys = sorted(d["key"] for d in response.get_json()["definitions"])
    assert keys == ["call_child", "call_parent"]


def test_dmn_and_bpmn_deploy_together(api):
    response = api.deploy("fee_rule.bpmn", "visit_fee.dmn")
    kinds = {d["key"]: d["kind"] for d in response.get_json()["definitions"]}
    assert kinds == {"visit_fee": "dmn", "fee_rule": "bpmn"}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_refused_naming_file_line_and_problem(api, name):
    response = _upload(api, (name, (BPMN_DIR / "bad" / name).read_bytes()))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_deployment"
    detail = body["details"][0]
    expected_text, expected_line = BAD_FILES[name]
    assert detail["file"] == name
    assert expected_text in detail["message"]
    assert detail["line"] == expected_line
    assert "Traceback" not in body["message"]


def test_one_bad_file_refuses_the_whole_deployment(api):
    good = ("exclusive.bpmn", (BPMN_DIR / "exclusive.bpmn").read_bytes())
    bad = ("bad_script.bpmn", (BPMN_DIR / "bad" / "bad_script.bpmn").read_bytes())
    response = _upload(api, good, bad)
    assert response.status_code == 422
    assert api.get("/process-definitions").get_json()["items"] == []


def test_an_element_error_names_the_element(api):
    response = _upload(api, ("u.bpmn", (BPMN_DIR / "bad" / "unsupported.bpmn").read_bytes()))
    assert response.get_json()["details"][0]["element"] == "complexGateway complex"


def test_an_oversized_file_is_refused(api):
    huge = b"<x>" + b" " * (6 * 1024 * 1024) + b"</x>"
    response = _upload(api, ("huge.bpmn", huge))
    assert response.status_code in (413, 422)
    assert api.get("/process-definitions").get_json()["items"] == []


def test_only_admins_and_designers_may_deploy(api):
    assert api.deploy("exclusive.bpmn", user="agent").status_code == 403
    assert api.deploy("exclusive.bpmn", user="designer").status_code == 201


def test_deploying_without_files_is_invalid_naming_the_field(api):
    response = api.post("/deployments", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["details"] == {"files": "required"}


def test_running_instances_stay_on_the_version_they_started_with(api):
    api.deploy("exclusive.bpmn", "amount_form.form.json")
    old = api.start("exclusive")
    changed = (
        (BPMN_DIR / "exclusive.bpmn").read_bytes().replace(b"amount &gt; 1000", b"amount &gt; 10")
    )
    _upload(api, ("exclusive.bpmn", changed))
    new = api.start("exclusive")
    assert (old["version"], new["version"]) == (1, 2)

    for started in (old, new):
        task = api.open_task(started["id"], "enter")
        api.post(f"/tasks/{task['id']}/complete", json={"data": {"amount": 500, "days": 1}})
    assert api.get(f"/process-instances/{old['id']}").get_json()["status"] == "completed"
    assert api.get(f"/process-instances/{new['id']}").get_json()["tasks"][0]["name"] == "approve"


def test_a_specific_version_can_be_started(api):
    api.deploy("exclusive.bpmn")
    changed = (BPMN_DIR / "exclusive.bpmn").read_bytes().replace(b"Enter amount", b"Enter sum")
    _upload(api, ("exclusive.bpmn", changed))
    assert api.start("exclusive", version=1)["version"] == 1
    response = api.post("/process-instances", json={"process_key": "exclusive", "version": 9})
    assert response.status_code == 404
