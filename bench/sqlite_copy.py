"""A SQLite copy of a generated PostgreSQL database: the embedded default at the same size.

The generator loads with COPY, which SQLite has not got; rather than a second loading path that
could drift from the first, the rows are drawn once (on PostgreSQL) and copied table by table
into a SQLite file migrated by the real migrations. The copy goes through the models' column
types, so timestamps, dates and JSON are stored exactly as the app itself would store them on
SQLite, and ids are kept, so both databases hold the same people under the same ids.

Run from the repository root:

    .venv/bin/python -m bench.sqlite_copy --from postgresql+psycopg://postgres@127.0.0.1:5432/NAME \
        --to instance/bench.sqlite3

Afterwards the statistics are made as the app makes them after a bulk load
(``divert.app.db.refresh_statistics``): what a SQLite installation that loaded this much would have.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/sqlite_copy.py`
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, inspect, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import divert.models  # noqa: E402, F401  (every table registered on the metadata)
from divert.app import migrate  # noqa: E402
from divert.app.db import make_engine, refresh_statistics  # noqa: E402
from divert.models.base import Base  # noqa: E402

# Rows read from PostgreSQL and inserted into SQLite at a time: bounds memory.
BATCH = 20_000


def copy_database(source_url: str, target_path: Path) -> dict[str, int]:
    """Copy every row of ``source_url`` into a new SQLite file at ``target_path``; rows per table."""
    if target_path.exists():
        raise SystemExit(f"{target_path} exists: copy into a new file")
    target_url = f"sqlite:///{target_path}"
    source, target = make_engine(source_url), make_engine(target_url)
    try:
        migrate.upgrade(target)
        counts = _copy_rows(source, target)
        with target.connect() as connection:
            refresh_statistics(connection)
        return counts
    finally:
        source.dispose()
        target.dispose()


def _copy_rows(source: Engine, target: Engine) -> dict[str, int]:
    present = set(inspect(target).get_table_names())
    counts: dict[str, int] = {}
    with source.connect() as reading, target.connect() as writing:
        # Foreign keys are checked once at the end (PRAGMA foreign_key_check), not per row; the
        # pragma only takes effect outside a transaction.
        writing.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        # A scratch copy: if the machine fails mid-copy it is made again, so no fsync per page.
        writing.connection.driver_connection.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
        with writing.begin():
            # Rows the migrations themselves seed would collide with the copied ones.
            for table in reversed(Base.metadata.sorted_tables):
                if table.name in present:
                    writing.execute(table.delete())
            for table in Base.metadata.sorted_tables:
                if table.name not in present:
                    continue
                counts[table.name] = 0
                order = list(table.primary_key.columns) or list(table.columns)
                rows = reading.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
                for batch in rows.mappings().partitions(BATCH):
                    writing.execute(table.insert(), [dict(r) for r in batch])
                    counts[table.name] += len(batch)
            problems = writing.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"the copy broke foreign keys: {problems[:5]}")
        writing.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    return counts


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--from", dest="source", required=True, help="a PostgreSQL database to copy")
    parser.add_argument("--to", dest="target", required=True, type=Path, help="a new SQLite file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    if make_url(args.source).get_backend_name() != "postgresql":
        raise SystemExit("--from must be a PostgreSQL database (bench.generate fills one)")
    started = time.perf_counter()
    counts = copy_database(args.source, args.target)
    width = max(map(len, counts))
    for table, count in counts.items():
        if count:
            print(f"{table:<{width}} {count:>12,}")
    print(f"copied to {args.target} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
