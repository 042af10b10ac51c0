from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.models import ProgrammeVersion
from divert.pathways.programmes import PROGRAMMES_DIR


def test_validate_lists_every_shipped_definition(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["programmes", "validate"])
    assert result.exit_code == 0, result.output
    for code in [
        "tvp-youth-drugs",
        "tvp-adult-drugs",
        "divert",
        "checkpoint",
        "checkpoint-plus",
        "avon-somerset-dep",
    ]:
        assert f": {code} version" in result.output


def test_validate_names_the_file_field_and_problem(app: Flask, tmp_path: Path) -> None:
    text = (PROGRAMMES_DIR / "divert.yaml").read_text(encoding="utf-8")
    broken = text.replace("roles: [coach]}", "roles: [sergeant]}", 1)
    assert broken != text
    (tmp_path / "broken.yaml").write_text(broken, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["programmes", "validate", str(tmp_path)])
    assert result.exit_code != 0
    assert "broken.yaml" in result.output and "roles" in result.output and "sergeant" in result.output


def test_init_db_loads_definitions_once_and_list_shows_them(app: Flask, empty_database: Session) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    count = empty_database.scalar(select(func.count()).select_from(ProgrammeVersion))
    assert count == len(list(PROGRAMMES_DIR.glob("*.yaml")))  # one per file in seeds/programmes
    empty_database.rollback()  # end the read, so the next command's migration can take the lock
    second = runner.invoke(args=["init-db"])
    assert "(0 newly loaded)" in second.output
    assert empty_database.scalar(select(func.count()).select_from(ProgrammeVersion)) == count
    empty_database.rollback()
    listing = runner.invoke(args=["programmes", "list"]).output
    assert "checkpoint" in listing and "v2" in listing and "tvp-youth-drugs" in listing
