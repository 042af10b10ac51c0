"""How long each stage of one import took, for the benchmark (bench/bench_import.py).

The operation never prints; a caller that wants the figures passes a ``Stages`` and reads
``seconds`` afterwards. Timing a stage costs two clock reads, so it is always on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stages:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
