"""The ``csm`` command line (CONTRACT.md): database, demo data, deployment, users, serving."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy.orm import Session

from engine.commands import Deploy, execute
from engine.db import database_url, make_engine, make_session_factory
from engine.errors import DeploymentError, EngineError
from engine.identity import ROLES, SYSTEM_ACTOR, TOKEN_DAYS, find_user, issue_token, upsert_user
from engine.models import ORG_KINDS, utcnow

MODEL_SUFFIXES = (".bpmn", ".dmn")
DATA_SUFFIXES = (".form.json", ".service.json")


@contextmanager
def session_scope() -> Iterator[Session]:
    engine = make_engine()
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            yield session
    except EngineError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group()
def cli() -> None:
    """After-sales customer-service platform."""
    import aftersales
    from forms.binding import install

    install()
    aftersales.install()


def main() -> None:
    """The console script: database problems end with a message, never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        cli()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        fail(f"database error ({reason}); is DATABASE_URL right and `csm db upgrade` done?")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Run the migrations up to the newest."""
    from engine.migrate import upgrade

    upgrade(database_url())
    click.echo("database is up to date")


def collect_model_files(paths: tuple[str, ...]) -> list[tuple[str, bytes]]:
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in MODEL_SUFFIXES or p.name.endswith(DATA_SUFFIXES)
            )
            files.extend((str(p), p.read_bytes()) for p in found)
        elif path.is_file():
            files.append((str(path), path.read_bytes()))
        else:
            fail(f"{raw}: no such file or folder")
    return files


@cli.command()
@click.argument("paths", nargs=-1, required=True)
def deploy(paths: tuple[str, ...]) -> None:
    """Deploy .bpmn, .dmn, .form.json and .service.json files (a folder means all of them)."""
    files = collect_model_files(paths)
    if not files:
        fail("no .bpmn, .dmn, .form.json or .service.json files found")
    with session_scope() as session:
        try:
            results = execute(session, Deploy(files, source="cli"), SYSTEM_ACTOR)
        except DeploymentError as exc:
            for problem in exc.details or []:
                click.echo(_problem_line(problem), err=True)
            if not exc.details:
                click.echo(f"error: {exc.message}", err=True)
            sys.exit(1)
    for result in results:
        click.echo(f"{result.key} {result.version} {'new' if result.created else 'unchanged'}")


def _problem_line(problem: dict) -> str:
    where = problem["file"]
    if problem.get("line"):
        where += f":{problem['line']}"
    if problem.get("element"):
        where += f" ({problem['element']})"
    return f"error: {where}: {problem['message']}"


@cli.group()
def user() -> None:
    """Users and API tokens."""


@user.command("add")
@click.argument("username")
@click.option("--group", "groups", multiple=True, help="a candidate group (repeatable)")
@click.option("--role", "roles", multiple=True, help=f"a role (repeatable): {', '.join(ROLES)}")
@click.option("--org", "org", default=None, help="the unit's code (default HQ)")
@click.option("--name", "display_name", default=None, help="the name shown in the UI")
@click.option("--admin", is_flag=True, help="make the user an administrator")
@click.option("--password", default=None)
@click.option(
    "--active/--inactive",
    default=None,
    help="switch the user on or off; --inactive ends their sessions and revokes their tokens",
)
def user_add(
    username: str,
    groups: tuple[str, ...],
    roles: tuple[str, ...],
    org: str | None,
    display_name: str | None,
    admin: bool,
    password: str | None,
    active: bool | None,
) -> None:
    """Create a user, or update the one with that name."""
    from werkzeug.security import generate_password_hash

    from .accounts import set_active

    with session_scope() as session:
        saved = upsert_user(
            session,
            username=username,
            groups=list(groups) if groups else None,
            roles=list(roles) if roles else None,
            org_code=org,
            display_name=display_name,
            is_admin=True if admin else None,
            password_hash=generate_password_hash(password) if password else None,
        )
        if active is not None:
            set_active(session, saved, active)
        session.commit()
    click.echo(f"user {username} saved")


@user.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def user_import(path: str) -> None:
    """Create or update users from a CSV file (username,display_name,org,roles,groups,...)."""
    from .people_csv import import_users

    with session_scope() as session:
        count = import_users(session, Path(path).read_text(encoding="utf-8-sig"))
        session.commit()
    click.echo(f"{count} users saved")


@cli.group()
def org() -> None:
    """The organisation tree."""


@org.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice(ORG_KINDS))
@click.option("--parent", default=None, help="the parent unit's code (default HQ)")
def org_add(code: str, name: str, kind: str, parent: str | None) -> None:
    """Create an organisation unit, or update the one with that code (a new parent moves
    it with its subtree and work, audited)."""
    from engine.commands import SaveOrgUnit

    with session_scope() as session:
        unit = execute(session, SaveOrgUnit(code, name, kind, parent), SYSTEM_ACTOR)
        click.echo(f"unit {unit.code} saved")


@org.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def org_import(path: str) -> None:
    """Create or update units from a CSV file (code,name,kind,parent), parents first."""
    from .people_csv import import_units

    with session_scope() as session:
        count = import_units(session, SYSTEM_ACTOR, Path(path).read_text(encoding="utf-8-sig"))
    click.echo(f"{count} units saved")


@user.command("token")
@click.argument("username")
@click.option(
    "--days",
    type=click.IntRange(1, 3660),
    default=None,
    help="how long the token is valid (default CSM_TOKEN_DAYS, else 90)",
)
def user_token(username: str, days: int | None) -> None:
    """Print a new bearer token for the user (its expiry goes to stderr)."""
    from .config import ConfigError, days_from_env

    try:
        days = days or days_from_env("CSM_TOKEN_DAYS", TOKEN_DAYS)
    except ConfigError as exc:
        fail(str(exc))
    with session_scope() as session:
        found = find_user(session, username)
        if found is None:
            fail(f"no user {username!r}")
        if not found.active:
            fail(f"user {username!r} is inactive")
        token = issue_token(session, found, name="cli", days=days)
        session.commit()
    click.echo(token)
    expires = utcnow() + timedelta(days=days)
    click.echo(f"expires {expires:%Y-%m-%d %H:%M} UTC", err=True)


@cli.command()
@click.option("--customers", default=2000, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option(
    "--orders",
    default=3000,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help="service orders of every type, stopped at every step of their processes",
)
def demo(customers: int, orders: int) -> None:
    """Load the demo world; running it again adds nothing it already has."""
    from aftersales.demo.world import Size

    from .demo import load_demo

    with session_scope() as session:
        try:
            for line in load_demo(session, Size(customers=customers, orders=orders)):
                click.echo(line)
        except EngineError as exc:
            fail(exc.message)


@cli.command()
def timers() -> None:
    """Fire the due timers once and print how many fired."""
    from engine.scheduler import fire_due_timers

    engine = make_engine()
    count = fire_due_timers(make_session_factory(engine))
    engine.dispose()
    click.echo(count)


@cli.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app and API (gunicorn; one process fires timers when there is no Redis).

    Refuses to start without CSM_SECRET_KEY unless CSM_DEMO=1 (the local demo set-up)."""
    from .config import ConfigError, check_serving
    from .server import run_server

    try:
        check_serving()
    except ConfigError as exc:
        fail(str(exc))
    run_server(host, port)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a Celery worker (needs REDIS_URL)."""
    _need_redis()
    from worker.celery_app import celery

    celery.worker_main(["worker", "--loglevel=INFO", *ctx.args])


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run Celery beat, which schedules the timer runs (needs REDIS_URL)."""
    _need_redis()
    from worker.celery_app import celery

    celery.start(["beat", "--loglevel=INFO", *ctx.args])


def _need_redis() -> None:
    if not os.environ.get("REDIS_URL"):
        fail("set REDIS_URL to the Redis that Celery should use")


if __name__ == "__main__":
    main()
