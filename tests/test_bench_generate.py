"""The synthetic data generator (bench/generate.py): deterministic, consistent, decided by the real rules.

Most checks draw rows without a database, so they run on every backend; loading needs COPY, so the
last test runs only when ``TEST_DATABASE_URL`` names a PostgreSQL server.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench.generate import COLUMNS, Disparities, Generator, generate, generator_settings, offline_catalogue
from bench.scratch import scratch_database
from bench.sqlite_copy import copy_database
from divert import session_factory
from divert.app.db import make_engine
from divert.models import Decision, Referral
from divert.monitoring import journeys
from divert.pathways.cases import replay
from divert.pathways.facts import facts_from_dict, facts_to_dict
from divert.pathways.programmes import PROGRAMMES_DIR
from divert.rules import decide, load_directory

from .database import server_url

Rows = dict[str, list[dict[str, Any]]]
# Programme versions by the ids offline_catalogue makes up for them (their order here).
DEFINITIONS = dict(enumerate(sorted(load_directory(PROGRAMMES_DIR), key=lambda d: (d.code, d.version)), 1))


def draw(n: int, seed: int = 7, disparities: Disparities | None = None) -> Rows:
    """Every table's rows for ``n`` encounters, as dicts by column name."""
    generator = Generator(offline_catalogue(), generator_settings(), seed, disparities or Disparities())
    rows: Rows = {table: [] for table in COLUMNS}
    for chunk in generator.chunks(n, size=100):
        for table, found in chunk.rows.items():
            rows[table] += [dict(zip(COLUMNS[table], row, strict=True)) for row in found]
    return rows


@pytest.fixture(scope="module")
def rows() -> Rows:
    return draw(400)


def test_the_same_seed_gives_the_same_rows(rows: Rows) -> None:
    assert draw(400) == rows
    assert draw(400, seed=8)["decisions"] != rows["decisions"]


def test_it_makes_exactly_n_encounters_and_a_decision_for_each_programme_run(rows: Rows) -> None:
    assert len(rows["encounters"]) == 400
    decided = {d["encounter_id"] for d in rows["decisions"]}
    assert decided == {e["id"] for e in rows["encounters"]}
    assert any(count > 1 for count in Counter(e["person_id"] for e in rows["encounters"]).values())


def test_every_referral_has_a_decision_for_its_encounter(rows: Rows) -> None:
    decisions = {d["id"]: d for d in rows["decisions"]}
    for referral in rows["referrals"]:
        assert decisions[referral["decision_id"]]["encounter_id"] == referral["encounter_id"]


def test_milestones_follow_the_journey(rows: Rows) -> None:
    for r in rows["referrals"]:
        assert r["accepted_at"] is None or r["offered_at"] is not None
        assert r["engaged_at"] is None or r["accepted_at"] is not None
        assert r["completed_at"] is None or r["engaged_at"] is not None
        assert r["escalated_at"] is None or r["accepted_at"] is not None
        stamps = [r[k] for k in ("opened_at", "offered_at", "accepted_at", "engaged_at") if r[k]]
        assert stamps == sorted(stamps)
        assert (r["completed_at"] is None) or r["outcome_code"] in (8, 22, None)
    assert any(r["completed_at"] for r in rows["referrals"])
    assert any(r["escalated_at"] for r in rows["referrals"])


def test_every_step_is_one_the_programme_allows(rows: Rows) -> None:
    version_of = {r["id"]: r["programme_version_id"] for r in rows["referrals"]}
    for event in rows["referral_events"]:
        if event["kind"] in ("decision", "override"):  # opening a case and overriding bypass the steps
            continue
        definition = DEFINITIONS[version_of[event["referral_id"]]]
        step = next(
            t
            for t in definition.transitions
            if (t.from_state, t.to_state) == (event["from_state"], event["to_state"])
        )
        assert event["reason"] or not step.reason_required


def test_stored_decisions_are_what_the_rules_decide(rows: Rows) -> None:
    for row in rows["decisions"]:
        if row["overrides_id"] is not None:
            continue
        stored = json.loads(row["facts"])
        facts = facts_from_dict(stored)
        assert facts_to_dict(facts) == stored
        result = decide(DEFINITIONS[row["programme_version_id"]], facts)
        assert (result.eligible, result.route) == (row["eligible"], row["route"])
        assert result.to_dict()["reasons"] == json.loads(row["reasons"])


def test_some_decisions_see_earlier_history(rows: Rows) -> None:
    assert any(json.loads(row["facts"])["history"] for row in rows["decisions"])


def test_a_disparity_lowers_the_offer_rate_of_its_group() -> None:
    def offer_rate(disparities: Disparities) -> float:
        referrals = draw(400, disparities=disparities)["referrals"]
        eligible = [r for r in referrals if r["state"] != "not_eligible"]
        return sum(r["offered_at"] is not None for r in eligible) / len(eligible)

    # White is most people, so 400 encounters are plenty to see the shift.
    assert offer_rate(Disparities({("offered", "White"): 0.5})) < 0.7 * offer_rate(Disparities.none())


def test_disparities_are_read_from_the_command_line() -> None:
    assert Disparities().factor("offered", "Black") < 1
    parsed = Disparities.none().overridden(["completed:Asian=0.7"])
    assert parsed.factor("completed", "Asian") == 0.7
    assert parsed.factor("offered", "Black") == 1
    with pytest.raises(ValueError, match="Unknown point"):
        Disparities.none().overridden(["arrested:Asian=0.7"])
    with pytest.raises(ValueError, match="Unknown ethnic group"):
        Disparities.none().overridden(["offered:Martian=0.7"])


@pytest.fixture
def loaded() -> Iterator[tuple[Session, Any]]:
    server = server_url()
    if server is None:
        pytest.skip("loading uses COPY: set TEST_DATABASE_URL to a PostgreSQL server")
    with scratch_database(server) as url:
        summary = generate(url, 300, seed=11, progress=False)
        engine = make_engine(url)
        try:
            with session_factory(engine)() as session:
                yield session, summary
        finally:
            engine.dispose()


def test_loading_stores_what_was_drawn_and_it_replays(loaded: tuple[Session, Any]) -> None:
    session, summary = loaded
    for table, count in summary.rows.items():
        assert session.scalar(text(f"SELECT count(*) FROM {table}")) == count  # noqa: S608 (constant names)
    assert summary.rows["encounters"] == 300
    orphans = select(func.count()).select_from(Referral).where(Referral.decision_id.is_(None))
    assert session.scalar(orphans) == 0
    for decision in session.scalars(select(Decision).where(Decision.overrides_id.is_(None))):
        result = replay(decision)
        assert (result.eligible, result.route) == (decision.eligible, decision.route)
        assert result.to_dict()["reasons"] == decision.reasons
    # Ids came from the generator, so each sequence must have been moved past them.
    next_id = session.scalar(text("SELECT nextval(pg_get_serial_sequence('referrals', 'id'))"))
    assert next_id == summary.rows["referrals"] + 1
    # The journey rows were drawn with the rest, not worked out afterwards: a rebuild changes none.
    snapshot = {
        "monitoring_journeys": text("SELECT * FROM monitoring_journeys ORDER BY encounter_id, programme_id"),
        "monitoring_encounters": text("SELECT * FROM monitoring_encounters ORDER BY encounter_id"),
    }
    kept = {table: session.execute(query).all() for table, query in snapshot.items()}
    assert kept["monitoring_journeys"] and kept["monitoring_encounters"]
    journeys.rebuild_all(session.connection())
    assert {table: session.execute(query).all() for table, query in snapshot.items()} == kept
    session.rollback()
    drawn = draw(300, seed=11)["decisions"]
    stored = session.execute(
        text("SELECT id, eligible, route, reasons::text FROM decisions ORDER BY id")
    ).all()
    assert [(d["id"], d["eligible"], d["route"], d["reasons"]) for d in drawn] == [tuple(r) for r in stored]


def test_a_sqlite_copy_holds_the_same_rows_as_the_app_stores_them(
    loaded: tuple[Session, Any], tmp_path: Path
) -> None:
    """bench.sqlite_copy: every row under the same id, read back through the models as on PostgreSQL."""
    session, summary = loaded
    target = tmp_path / "copy.sqlite3"
    counts = copy_database(session.get_bind().url.render_as_string(hide_password=False), target)
    assert {table: counts[table] for table in summary.rows} == summary.rows
    lite = make_engine(f"sqlite:///{target}")
    try:
        with session_factory(lite)() as copied:
            first = select(Referral).order_by(Referral.id).limit(5)
            pairs = zip(session.scalars(first), copied.scalars(first), strict=True)
            for original, copy in pairs:
                assert (copy.id, copy.reference, copy.opened_at, copy.state) == (
                    original.id,
                    original.reference,
                    original.opened_at,
                    original.state,
                )
            decision = select(Decision).order_by(Decision.id).limit(1)
            assert copied.scalars(decision).one().reasons == session.scalars(decision).one().reasons
            # Statistics as the app makes them after a load.
            assert copied.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'encounters'"))
    finally:
        lite.dispose()
