"""Counting the SQL statements a block of code sends, to pin how many queries a page makes.

    with count_queries() as queries:
        client.get("/worklist")
    assert len(queries) == 7, queries.report()

The listener sits on the application's engine (``db.engine``), so it sees every statement sent on
any connection made from it, including the one each test's requests share (see conftest).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from divert.app.extensions import db

# Statements that manage the transaction or tune the next query rather than read or write rows:
# savepoints (the tests' rollback isolation), SQLite's BEGIN, and PostgreSQL's SET LOCAL before a
# monitoring query. They are kept apart, so a page's count is the same on both databases.
_HOUSEKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "SET LOCAL")


@dataclass
class Queries:
    """The statements sent while the block ran, in order."""

    statements: list[str] = field(default_factory=list)
    housekeeping: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def __iter__(self) -> Iterator[str]:
        return iter(self.statements)

    def report(self) -> str:
        """Every statement, numbered, then the ones sent more than once: an N+1 shows as a repeat."""
        lines = [f"{len(self.statements)} statements:"]
        lines += [f"{n:3}. {_one_line(s)}" for n, s in enumerate(self.statements, 1)]
        repeated = [(s, n) for s, n in Counter(map(_one_line, self.statements)).items() if n > 1]
        if repeated:
            lines.append("sent more than once:")
            lines += [f"  x{n} {s}" for s, n in repeated]
        return "\n".join(lines)


def _one_line(statement: str, limit: int = 300) -> str:
    """The statement on one line; a long one keeps its start and its end (FROM … WHERE …)."""
    flat = " ".join(statement.split())
    half = limit // 2
    return flat if len(flat) <= limit else f"{flat[:half]} … {flat[-half:]}"


@contextmanager
def count_queries(engine: Engine | None = None) -> Iterator[Queries]:
    """Collect every SQL statement sent through ``engine`` (the app's by default) while the block runs.

    Savepoints, BEGIN and SET LOCAL are kept apart in ``housekeeping``: the tests' rollback isolation
    adds savepoints a real request does not make, and none of them grows with the rows on a page.
    """
    target = engine if engine is not None else db.engine
    assert target is not None, "the app has no engine yet"
    queries = Queries()

    def before_cursor_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if statement.lstrip().upper().startswith(_HOUSEKEEPING):
            queries.housekeeping.append(statement)
        else:
            queries.statements.append(statement)

    event.listen(target, "before_cursor_execute", before_cursor_execute)
    try:
        yield queries
    finally:
        event.remove(target, "before_cursor_execute", before_cursor_execute)
