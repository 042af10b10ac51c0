"""More app instances in one test, as several processes of one installation would be."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask

from divert import create_app
from divert.app.extensions import db

from .client import PageClient


@contextmanager
def another_app(overrides: Mapping[str, Any] | None = None, env: str = "testing") -> Iterator[Flask]:
    """A second ``create_app`` object. Creating one binds the shared database handle to a new
    engine; afterwards the handle goes back to what the running test had bound it to."""
    engine, bind = db.engine, db.factory.kw.get("bind")
    reports_engine, reports_bind = db.reports_engine, db.reports_factory.kw.get("bind")
    application = create_app(overrides, env=env)
    application.test_client_class = PageClient
    new_engine = db.engine
    db.engine = engine
    db.factory.configure(bind=bind)
    db.reports_engine = reports_engine
    db.reports_factory.configure(bind=reports_bind)
    try:
        yield application
    finally:
        if new_engine is not None and new_engine is not engine:
            new_engine.dispose()
