"""Work stays with the person doing it: a step that lands in a group the person who just
finished the previous step (or started the case) belongs to is theirs without claiming.
An explicit ``assignee`` still decides, and operators moving a token hand nothing over."""

from __future__ import annotations

import sqlalchemy as sa

from engine import queries
from engine.commands import Complete, MoveToken, StartInstance
from engine.models import TaskCandidate
from tests.helpers import open_task


def start(env, user: str, **variables: object):  # noqa: ANN001, ANN201
    env.deploy("handover.bpmn")
    return env.run(StartInstance("handover", variables=variables), user)


def to_claim(env, user: str) -> list[str]:  # noqa: ANN001
    """Names of the tasks in the user's "to claim" list."""
    with env.session_factory() as session:
        flt = queries.TaskFilter(candidate=True)
        page = queries.list_tasks(session, env.actors[user], flt, queries.Page(1, 50))
        return [t.name for t in page.items]


def test_the_starter_in_the_first_steps_group_gets_it_without_claiming(engine_env):
    started = start(engine_env, "agent")
    first = open_task(engine_env.session_factory, started.id, "first")
    assert (first.assignee, first.claimed_at is not None) == ("agent", True)
    assert to_claim(engine_env, "agent2") == []
    with engine_env.session_factory() as session:
        assert session.get(TaskCandidate, (first.id, "agents")).claimed is True


def test_a_starter_outside_the_group_leaves_the_step_to_the_group(engine_env):
    started = start(engine_env, "admin")
    first = open_task(engine_env.session_factory, started.id, "first")
    assert first.assignee is None
    assert to_claim(engine_env, "agent2") == ["first"]


def test_an_explicit_assignee_wins_over_the_person_who_finished_the_step(engine_env):
    started = start(engine_env, "agent", second_to="agent2")
    first = open_task(engine_env.session_factory, started.id, "first")
    engine_env.run(Complete(first.id), "agent")
    assert open_task(engine_env.session_factory, started.id, "second").assignee == "agent2"


def test_an_assignee_expression_that_names_no_one_leaves_the_step_to_its_group(engine_env):
    started = start(engine_env, "agent", second_to="")
    first = open_task(engine_env.session_factory, started.id, "first")
    engine_env.run(Complete(first.id), "agent")
    assert open_task(engine_env.session_factory, started.id, "second").assignee is None


def test_the_completer_in_any_one_of_the_candidate_groups_gets_the_next_step(engine_env):
    started = start(engine_env, "manager", second_to="manager")
    engine_env.run(
        Complete(open_task(engine_env.session_factory, started.id, "first").id), "manager"
    )
    engine_env.run(
        Complete(open_task(engine_env.session_factory, started.id, "second").id), "manager"
    )
    third = open_task(engine_env.session_factory, started.id, "third")
    assert (third.candidate_group, third.assignee) == ("outlets,managers", "manager")


def test_a_completer_in_none_of_the_next_steps_groups_hands_it_to_the_groups(engine_env):
    started = start(engine_env, "agent", second_to="agent2")
    engine_env.run(Complete(open_task(engine_env.session_factory, started.id, "first").id), "agent")
    engine_env.run(
        Complete(open_task(engine_env.session_factory, started.id, "second").id), "agent2"
    )
    assert open_task(engine_env.session_factory, started.id, "third").assignee is None
    assert to_claim(engine_env, "outlet") == ["third"]


def test_an_operator_moving_the_token_back_is_not_handed_the_step(engine_env):
    started = start(engine_env, "admin", second_to="agent2")
    engine_env.run(Complete(open_task(engine_env.session_factory, started.id, "first").id))
    engine_env.run(MoveToken(started.id, "second", "first"), "manager")
    assert open_task(engine_env.session_factory, started.id, "first").assignee is None


def statements_completing_second(env, user: str) -> tuple[int, str | None]:  # noqa: ANN001
    """The SQL statements completing the second step as ``user`` runs, and who the third
    step went to."""
    started = start(env, "admin", second_to=user)
    env.run(Complete(open_task(env.session_factory, started.id, "first").id))
    second = open_task(env.session_factory, started.id, "second")
    engine = env.session_factory.kw["bind"]
    seen: list[object] = []

    def count(*args: object) -> None:
        seen.append(args)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        env.run(Complete(second.id), user)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen), open_task(env.session_factory, started.id, "third").assignee


def test_handing_a_step_over_costs_no_statement_of_its_own(engine_env):
    handed, to = statements_completing_second(engine_env, "manager")
    left, nobody = statements_completing_second(engine_env, "agent2")
    assert (to, nobody) == ("manager", None)
    assert handed == left
