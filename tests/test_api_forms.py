"""Forms as data through the API: deployment, the version a task pins, field errors."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BPMN_DIR


@pytest.fixture
def deployed(api):  # noqa: ANN001, ANN201
    response = api.deploy("form_review.bpmn", "test_request.form.json", "test_review.form.json")
    assert response.status_code == 201, response.get_json()
    return api


def review(api) -> dict:  # noqa: ANN001
    started = api.start("form_review", "agent", variables={"subject": "空调"})
    return api.open_task(started["id"], "review")


def test_a_form_file_deploys_beside_the_bpmn_as_version_1(api):
    response = api.deploy("form_review.bpmn", "test_review.form.json")
    forms = [d for d in response.get_json()["definitions"] if d["kind"] == "form"]
    assert forms == [{"key": "test_review", "version": 1, "created": True, "kind": "form"}]


def test_a_bad_form_file_refuses_the_whole_deployment(api, tmp_path):
    bad = tmp_path / "bad.form.json"
    bad.write_text('{"key": "x", "schema": {"type": "object", "properties": {}}, "ui": 3}')
    files = [
        ((BPMN_DIR / "form_review.bpmn").open("rb"), "form_review.bpmn"),
        (bad.open("rb"), "bad.form.json"),
    ]
    response = api.post("/deployments", data={"files": files}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["details"][0]["file"] == "bad.form.json"
    assert api.get("/process-definitions").get_json()["items"] == []


def test_the_task_answers_its_form_and_the_version_it_pinned(deployed):
    body = deployed.get(f"/tasks/{review(deployed)['id']}").get_json()
    assert body["form_version"] == 1
    assert body["form"]["schema"]["required"] == ["approved"]
    assert body["data"]["subject"] == "空调"


def test_invalid_data_answers_422_with_field_errors_and_saves_nothing(deployed):
    task = review(deployed)
    response = deployed.post(f"/tasks/{task['id']}/complete", json={"data": {"score": 9}})
    assert response.status_code == 422
    fields = response.get_json()["details"]["fields"]
    assert set(fields) == {"approved", "score"}
    assert deployed.get(f"/tasks/{task['id']}").get_json()["status"] == "open"


def test_field_errors_follow_the_accept_language(deployed):
    task = review(deployed)
    zh = deployed.post(f"/tasks/{task['id']}/complete", json={"data": {}})
    en = deployed.client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {}},
        headers={**deployed.headers("admin"), "Accept-Language": "en-US,en;q=0.9"},
    )
    assert zh.get_json()["details"]["fields"]["approved"] == ["此项为必填"]
    assert en.get_json()["details"]["fields"]["approved"] == ["This field is required"]


def test_valid_data_completes_the_task(deployed):
    task = review(deployed)
    response = deployed.post(
        f"/tasks/{task['id']}/complete", json={"data": {"approved": True, "score": 4}}
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "completed"


def test_a_task_keeps_checking_against_the_version_it_was_created_with(deployed, tmp_path):
    task = review(deployed)
    changed = json.loads((BPMN_DIR / "test_review.form.json").read_text())
    changed["schema"]["required"] = ["approved", "score"]
    path = tmp_path / "test_review.form.json"
    path.write_text(json.dumps(changed))
    response = deployed.post(
        "/deployments",
        data={"files": [(path.open("rb"), path.name)]},
        content_type="multipart/form-data",
    )
    assert response.get_json()["definitions"][0]["version"] == 2
    done = deployed.post(f"/tasks/{task['id']}/complete", json={"data": {"approved": False}})
    assert done.status_code == 200
    later = review(deployed)
    assert deployed.get(f"/tasks/{later['id']}").get_json()["form_version"] == 2


def test_a_start_form_checks_the_variables_of_a_start(deployed):
    response = deployed.post(
        "/process-instances",
        "agent",
        json={"process_key": "form_review", "variables": {"subject": "x", "phone": "123"}},
    )
    assert response.status_code == 422
    assert set(response.get_json()["details"]["fields"]) == {"subject", "phone"}
    assert deployed.get("/process-instances").get_json()["total"] == 0
