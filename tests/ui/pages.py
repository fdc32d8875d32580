"""The world of the page tests: the demo organisation, users, processes and instances on the
test database (SQLite and PostgreSQL), an app with CSRF protection on, and sign-in helpers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from aftersales.demo_world import bare
from engine.commands import execute
from engine.db import make_engine, make_session_factory
from engine.identity import actor_for
from engine.models import HumanTask, ProcessInstance, User
from webapp.demo import DEMO_PASSWORD, load_demo

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    app: Flask
    session_factory: sessionmaker[Session]

    def client(self, username: str | None = None, password: str = DEMO_PASSWORD) -> FlaskClient:
        client = self.app.test_client()
        if username is not None:
            response = login(client, username, password)
            assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def run(self, command: object, as_user: str) -> object:
        with self.session_factory() as session:
            user = session.scalar(sa.select(User).where(User.username == as_user))
            return execute(session, command, actor_for(user))

    def task(self, business_key: str, name: str) -> HumanTask:
        """The task ``name`` of the demo instance ``business_key`` (open before closed)."""
        with self.session_factory() as session:
            task = session.scalar(
                sa.select(HumanTask)
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(ProcessInstance.business_key == business_key, HumanTask.name == name)
                .order_by(HumanTask.status.desc())
            )
            assert task is not None, f"no task {name} in {business_key}"
            session.expunge(task)
            return task

    def get(self, model: type, key: object) -> object:
        with self.session_factory() as session:
            row = session.get(model, key)
            if row is not None:
                session.expunge(row)
            return row

    def user(self, username: str) -> User | None:
        with self.session_factory() as session:
            user = session.scalar(sa.select(User).where(User.username == username))
            if user is not None:
                session.expunge(user)
            return user


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    from webapp import create_app

    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        for _line in load_demo(session, bare()):
            pass
    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,  # as in production
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": False,
            # sign-in counters of this app only, also when they live in a shared Redis
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )
    yield World(app, factory)
    engine.dispose()


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """The csrf_token a page's forms carry, as a browser would read it."""
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"{path} carries no csrf_token"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs: object):  # noqa: ANN201
    """A form post with the token of the current session, as the page's form sends it."""
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf(client, "/nowhere")}, **kwargs
    )


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD, **extra: str):  # noqa: ANN201
    token = csrf(client)
    data = {"username": username, "password": password, "csrf_token": token, **extra}
    return client.post("/login", data=data)


def text(response) -> str:  # noqa: ANN001
    assert response.content_type.startswith("text/html"), response.content_type
    return response.get_data(as_text=True)


def field_block(page: str, name: str) -> str:
    """The HTML of the form row of field ``name`` (its label, input and errors)."""
    start = page.index(f'data-field="{name}"')
    end = page.find('data-field="', start + 1)
    return page[start : end if end != -1 else len(page)]


def counts(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="(\w+)">([^<]*)<', page))


def listed_tasks(page: str) -> list[str]:
    return re.findall(r'data-task="([^"]+)"', page)


def flashes(page: str) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)</', page, re.S))
