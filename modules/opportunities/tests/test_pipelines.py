"""Pipelines per division: the seeded default (at install and lazily for new divisions), the
read API in the caller's division, and the administrator's edits of stages and gates."""
from __future__ import annotations

from modules.base import services as base_services
from modules.opportunities.models import Pipeline, Stage, StageGate
from modules.opportunities.pipelines import default_pipeline, seed_all_divisions, stages_of
from modules.opportunities.tests.helpers import deal, stage

STAGES = [("初步接触", 10, "open"), ("需求确认", 25, "open"), ("方案演示", 50, "open"),
          ("报价谈判", 75, "open"), ("赢单", 100, "won"), ("输单", 0, "lost")]


def test_every_division_gets_the_default_pipeline_once(org):
    assert seed_all_divisions() == 2  # IA and MD were created after install
    assert seed_all_divisions() == 0
    third = base_services.create_division("SV", "服务事业部")
    pipeline = default_pipeline(third.id)  # lazily, on first use
    assert default_pipeline(third.id).id == pipeline.id
    assert [(s.name, s.probability, s.kind) for s in stages_of(pipeline.id)] == STAGES
    assert Pipeline.select().where(Pipeline.division == third.id).count() == 1
    quote = next(s for s in stages_of(pipeline.id) if s.name == "报价谈判")
    assert sorted(g.code for g in StageGate.select().where(StageGate.stage == quote.id)) == [
        "budget", "competitor", "decision_maker"]


def test_pipelines_are_read_in_the_division(org, clients):
    md = default_pipeline(org.divisions["MD"].id)
    listed = clients("rep1").get("/api/v1/pipelines").json()["pipelines"]
    assert [p["division"] for p in listed] == [org.divisions["IA"].id]
    assert [s["name"] for s in listed[0]["stages"]] == [name for name, _, _ in STAGES]
    assert clients("rep1").get(f"/api/v1/pipelines/{md.id}").status_code == 404
    assert clients("md_rep").get(f"/api/v1/pipelines/{md.id}").status_code == 200


def test_admin_edits_gates_over_http_and_reps_cannot(org, clients):
    needs = stage(org, "需求确认")
    url = f"/api/v1/pipelines/{needs.pipeline_id}/stages/{needs.id}/gates"
    body = {"gates": [{"kind": "required_field", "field": "budget"},
                      {"kind": "condition", "condition": {"type": "competitor", "min": 2}}]}
    assert clients("rep1").put(url, json=body).status_code == 403
    assert clients("rep1").get(url).json()["gates"][0]["code"] == "expected_close"
    admin = clients("admin")
    saved = admin.put(url, json=body)
    assert saved.status_code == 200, saved.text
    assert [g["code"] for g in saved.json()["gates"]] == ["budget", "competitor"]
    opp = deal(org)
    refused = clients("rep1").post(f"/api/v1/opportunities/{opp['id']}/move",
                                   json={"stage": needs.id})
    assert refused.json()["error"]["fields"] == {
        "budget": "需要填写预算 / budget is required",
        "competitor": "需要至少登记 2 个竞争对手 / at least 2 competitor entry is required"}
    bad = admin.post(url, json={"kind": "condition", "condition": {"type": "min_amount",
                                                                   "value": -5}})
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {
        "condition.value": "must be 0 or more"}
    added = admin.post(url, json={"kind": "required_field", "field": "description"})
    assert added.status_code == 201
    assert admin.delete(f"{url}/{added.json()['id']}").status_code == 204
    assert admin.delete(f"{url}/{added.json()['id']}").status_code == 404


def test_stage_edits_keep_the_pipeline_sound(org, clients):
    admin = clients("admin")
    pipeline = default_pipeline(org.divisions["IA"].id)
    base = f"/api/v1/pipelines/{pipeline.id}/stages"
    added = admin.post(base, json={"name": "招投标", "name_en": "Tender", "probability": 85,
                                   "kind": "open", "sequence": 45})
    assert added.status_code == 201, added.text
    names = [s["name"] for s in added.json()["stages"]]
    assert names.index("招投标") == names.index("报价谈判") + 1
    tender = Stage.get(Stage.name == "招投标", Stage.pipeline == pipeline.id)
    assert admin.patch(f"{base}/{tender.id}", json={"probability": 101}).status_code == 422
    won = stage(org, "赢单")
    assert admin.delete(f"{base}/{won.id}").status_code == 409  # the only won stage
    first = stage(org, "初步接触")
    deal(org)
    assert admin.delete(f"{base}/{first.id}").status_code == 409  # deals are in it
    assert admin.patch(f"{base}/{first.id}", json={"kind": "lost"}).status_code == 409
    assert admin.delete(f"{base}/{tender.id}").status_code == 200
    assert clients("rep1").post(base, json={"name": "x", "probability": 1,
                                            "kind": "open"}).status_code == 403
    copy = admin.post("/api/v1/pipelines", json={"division": org.divisions["IA"].id,
                                                 "name": "项目型销售", "copy_from": pipeline.id})
    assert copy.status_code == 201 and not copy.json()["is_default"]
    assert len(copy.json()["stages"]) == 6
    made_default = admin.patch(f"/api/v1/pipelines/{copy.json()['id']}",
                               json={"is_default": True})
    assert made_default.json()["is_default"] is True
    assert default_pipeline(org.divisions["IA"].id).id == copy.json()["id"]
