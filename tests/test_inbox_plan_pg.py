"""On PostgreSQL the inbox queries are answered through indexes, never a scan of all tasks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from engine.db import make_engine
from engine.identity import Actor
from engine.queries import Page, TaskFilter, group_inbox_ids, task_query

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

TASKS = 60_000
GROUPS = 50


@pytest.fixture
def loaded_pg(database_url: str) -> str:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO deployment (id, source, files, deployed_at)"
                " VALUES (1, 'test', '[]', now())"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO process_definition (id, kind, key, version, name, file_name,"
                " content_hash, source, start_groups, message_starts, deployment_id, created_at)"
                " VALUES (1, 'bpmn', 'p', 1, 'p', 'p.bpmn', 'h', '', '[]', '[]', 1, now())"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO process_instance (definition_id, process_key, process_version, status,"
                " started_at, updated_at, current_activities, variables, state, waiting, revision)"
                " SELECT 1, 'p', 1, 'running', now(), now(), '[]', '{}', '', false, 1"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO human_task (id, instance_id, process_key, name, title,"
                " candidate_group, assignee, priority, status, created_at, org_path)"
                " SELECT md5(g::text)::uuid::text, 1, 'p', 't', 't', 'g' || (g % :groups),"
                " CASE WHEN g % 7 = 0 THEN 'user' || (g % 300) END, g % 100,"
                " CASE WHEN g % 5 = 0 THEN 'open' ELSE 'completed' END,"
                " now() - (g || ' seconds')::interval,"
                " '/1/' || (10 + g % 5) || '/' || (100 + g % 40) || '/'"
                " FROM generate_series(1, :tasks) g"
            ),
            {"groups": GROUPS, "tasks": TASKS},
        )
        conn.execute(
            sa.text(
                "INSERT INTO task_candidate"
                " (task_id, group_name, claimed, priority, created_at, org_path)"
                " SELECT id, candidate_group, assignee IS NOT NULL, priority, created_at, org_path"
                " FROM human_task"
                " WHERE status = 'open'"
            )
        )
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return database_url


def _plan(url: str, query: sa.Select, params: dict | None = None) -> str:
    if isinstance(query, sa.TextClause):
        sql = query.text
    else:
        sql = str(
            query.limit(50).compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
            )
        )
    engine = make_engine(url)
    with engine.connect() as conn:
        lines = conn.execute(sa.text(f"EXPLAIN {sql}"), params or {}).scalars().all()
    engine.dispose()
    return "\n".join(lines)


def test_the_group_inbox_reads_through_indexes(loaded_pg):
    actor = Actor("user1", frozenset({"g1", "g2", "g3", "g4", "g5"}))
    statement, params = group_inbox_ids(actor, Page(1, 50))
    plan = _plan(loaded_pg, statement, params)
    assert "Seq Scan" not in plan, plan
    assert "ix_task_candidate_inbox" in plan, plan


def test_my_tasks_read_through_the_assignee_index(loaded_pg):
    actor = Actor("user7", frozenset())
    query = task_query(actor, TaskFilter(assignee="me"))
    plan = _plan(loaded_pg, query.order_by(sa.text("priority DESC, created_at")))
    assert "Seq Scan on human_task" not in plan, plan
    assert "ix_human_task_assignee_open" in plan, plan


def test_an_outlets_group_inbox_reads_through_indexes(loaded_pg):
    actor = Actor("user1", frozenset({"g1", "g2", "g3"}), scope="/1/11/101/")
    statement, params = group_inbox_ids(actor, Page(1, 50))
    plan = _plan(loaded_pg, statement, params)
    assert "Seq Scan" not in plan, plan
    assert "ix_task_candidate" in plan, plan


def test_an_outlets_task_search_stays_in_its_scope_through_an_index(loaded_pg):
    actor = Actor("user7", frozenset({"g1"}), scope="/1/11/101/")
    query = task_query(actor, TaskFilter(assignee="me"))
    plan = _plan(loaded_pg, query.order_by(sa.text("priority DESC, created_at")))
    assert "Seq Scan on human_task" not in plan, plan
