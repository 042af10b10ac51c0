"""The kept release (monitoring/cache.py): used again while nothing it is counted from changed,
never after a change, made through the ORM, a Core statement on the session, or a rebuild."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from divert.models import MonitoringCache, Person
from divert.monitoring import cache, release
from divert.monitoring.release import linked_release, protect_release

from . import dataset


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the release was counted and protected (not read from what was kept)."""
    calls: list[int] = []
    real = release._count_and_protect

    def counting(*args: Any) -> release.Release:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(release, "_count_and_protect", counting)
    return calls


def test_a_kept_release_is_the_one_computed_and_is_used_until_the_data_changes(
    db_session: Session, computed: list[int]
) -> None:
    dataset.load(db_session)
    first = linked_release(db_session, None)
    assert len(computed) == 1
    assert db_session.scalar(select(MonitoringCache.kind)) == "release"
    # Read back from the row, not this process's copy: exactly the same figures and hidden cells.
    cache.forget_decoded()
    again = linked_release(db_session, None)
    assert len(computed) == 1
    assert (again.values, again.hidden, again.threshold) == (first.values, first.hidden, first.threshold)
    counted, codes, groups = release.count_release(db_session, None)
    assert protect_release(counted, codes, groups, 5).hidden == first.hidden

    # A person's ethnicity corrected through the ORM: the figures move, so the release is new.
    version = cache.data_version(db_session)
    person = db_session.scalars(select(Person).order_by(Person.id)).first()
    assert person is not None
    person.self_defined_ethnicity = "B1" if person.self_defined_ethnicity != "B1" else "W1"
    db_session.flush()
    assert cache.data_version(db_session) != version
    linked_release(db_session, None)
    assert len(computed) == 2

    # A Core statement through the session counts as a change too.
    version = cache.data_version(db_session)
    db_session.execute(update(Person).where(Person.id == person.id).values(self_defined_ethnicity="A1"))
    assert cache.data_version(db_session) != version
    linked_release(db_session, None)
    assert len(computed) == 3

    # As does a rebuild after changes made outside the app (flask monitoring-rebuild notes one).
    version = cache.data_version(db_session)
    cache.note_change(db_session)
    assert cache.data_version(db_session) != version
    linked_release(db_session, None, threshold=5)
    assert len(computed) == 4
    # Another threshold is another release; the same one again is kept.
    linked_release(db_session, None, threshold=3)
    linked_release(db_session, None, threshold=5)
    assert len(computed) == 5


def test_writing_what_monitoring_does_not_count_keeps_the_release(
    db_session: Session, computed: list[int]
) -> None:
    dataset.load(db_session)
    linked_release(db_session, None)
    version = cache.data_version(db_session)
    db_session.execute(update(MonitoringCache).values(seconds=0.0))  # not a table it counts
    assert cache.data_version(db_session) == version
    linked_release(db_session, None)
    assert len(computed) == 1
