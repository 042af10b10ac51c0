"""The latency figures the page and API benchmarks print: nearest-rank percentiles."""

from __future__ import annotations

import pytest

from bench.bench_pages import percentile, summarise


def test_percentiles_are_values_that_were_observed() -> None:
    ordered = [float(n) for n in range(1, 101)]  # 1 … 100
    assert percentile(ordered, 0.5) == 50
    assert percentile(ordered, 0.95) == 95
    assert percentile(ordered, 0.99) == 99
    assert percentile(ordered, 1.0) == 100


def test_small_samples_round_up_to_a_real_rank() -> None:
    assert percentile([7.0], 0.95) == 7
    assert percentile([1.0, 2.0, 3.0], 0.5) == 2
    assert percentile([1.0, 2.0], 0.0) == 1


def test_summary_sorts_its_samples_first() -> None:
    summary = summarise([0.3, 0.1, 0.2, 0.4])
    assert (summary.count, summary.median, summary.p95, summary.p99) == (4, 0.2, 0.4, 0.4)


def test_no_samples_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no samples"):
        summarise([])
