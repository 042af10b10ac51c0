"""How many decisions per second the rules engine makes in one process, against baselines from the same run.

Run from the repository root:  .venv/bin/python -m bench.bench_rules
The machines are noisy, so absolute figures are printed beside two baselines measured in the same run and the
ratios between them; compare ratios across runs, not raw rates.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/bench_rules.py`
    sys.path.insert(0, str(ROOT))

from divert.rules import EncounterFacts, PriorEncounter, decide, load_directory, select_version  # noqa: E402
from divert.rules.vocabulary import fact_values  # noqa: E402

N_FACTS = 5000
ROUNDS = 5
CATEGORIES = (
    "drug_possession",
    "theft",
    "burglary",
    "public_order",
    "common_assault",
    "fraud",
    "abh",
    "other",
)
NEEDS = ("mental_health", "alcohol", "drugs", "homelessness", "care_leaver")
PROGRAMMES = (
    "tvp-youth-drugs",
    "tvp-adult-drugs",
    "divert",
    "checkpoint",
    "checkpoint-plus",
    "avon-somerset-dep",
)


def build_facts(seed: int = 20240612) -> list[EncounterFacts]:
    """Deterministic, varied encounters: the same seed always builds the same list."""
    rng = random.Random(seed)
    facts = []
    for _ in range(N_FACTS):
        # From 2020, when every shipped programme is in force.
        on = date(2020, 1, 1) + timedelta(days=rng.randrange(2500))
        history = tuple(
            PriorEncounter(
                on - timedelta(days=rng.randrange(1, 2000)),
                rng.choice(CATEGORIES),
                rng.choice(PROGRAMMES),
                rng.random() < 0.5,
            )
            for _ in range(rng.choice((0, 0, 1, 2, 5)))
        )
        facts.append(
            EncounterFacts(
                occurred_on=on,
                date_of_birth=None
                if rng.random() < 0.05
                else on - timedelta(days=rng.randrange(9 * 365, 45 * 365)),
                gender=rng.choice(("male", "female", "other", "not_stated")),
                setting=rng.choice(("street", "custody", "community")),
                offence_category=rng.choice(CATEGORIES),
                offence_date=on - timedelta(days=rng.randrange(0, 150)),
                personal_use=rng.choice((True, True, False, None)),
                supply_suspected=rng.random() < 0.1,
                admission=rng.choice(("admitted", "no_comment", "denied", "not_asked")),
                hate_crime=rng.random() < 0.05,
                lives_in_area=rng.random() < 0.9,
                offended_in_area=rng.random() < 0.9,
                on_court_order=rng.random() < 0.1,
                co_accused=rng.random() < 0.1,
                vulnerabilities=frozenset(n for n in NEEDS if rng.random() < 0.3),
                history=history,
            )
        )
    return facts


def best_rate(work: Callable[[], int]) -> float:
    """Items per second of the fastest round: the least disturbed by other work on the machine."""
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        count = work()
        rates.append(count / (time.perf_counter() - start))
    return max(rates)


def main() -> None:
    definitions = load_directory(ROOT / "seeds" / "programmes")
    facts = build_facts()
    pairs = [
        (select_version(definitions, PROGRAMMES[i % len(PROGRAMMES)], f.occurred_on), f)
        for i, f in enumerate(facts)
    ]
    table = {code: code.upper() for code in PROGRAMMES}

    def lookups() -> int:
        found = [table[definition.code] for definition, _ in pairs]
        return len(found)

    def build() -> int:
        return len(build_facts())

    def derive() -> int:
        for _, f in pairs:
            fact_values(f)
        return len(pairs)

    def decisions() -> int:
        for definition, f in pairs:
            decide(definition, f)
        return len(pairs)

    def decisions_rule_engine() -> int:
        # Eligibility with every condition evaluated by rule-engine itself, to show what compiling saves.
        for definition, f in pairs[:1000]:
            values = fact_values(f)
            for rule in definition.eligibility:
                if all(values[n] is not None for n in rule.condition.facts):
                    rule.condition.evaluate_with_rule_engine(values)
        return 1000

    lookup_rate, build_rate = best_rate(lookups), best_rate(build)
    derive_rate, decide_rate = best_rate(derive), best_rate(decisions)
    rule_engine_rate = best_rate(decisions_rule_engine)
    eligible = sum(decide(d, f).eligible for d, f in pairs)
    print(
        f"encounters: {len(pairs)} across {len(PROGRAMMES)} programmes ({eligible} eligible), "
        f"best of {ROUNDS} rounds"
    )
    print(f"baseline dict lookup loop      {lookup_rate:>12,.0f} /s")
    print(f"baseline building the facts    {build_rate:>12,.0f} /s")
    print(f"deriving fact values only      {derive_rate:>12,.0f} /s")
    print(f"decide() (compiled conditions) {decide_rate:>12,.0f} decisions/s")
    print(f"eligibility via rule-engine    {rule_engine_rate:>12,.0f} decisions/s (no routing, no reasons)")
    print(f"ratio decide / building facts  {decide_rate / build_rate:>12.2f}")
    print(f"ratio decide / dict lookup     {decide_rate / lookup_rate:>12.4f}")
    print(f"ratio compiled / rule-engine   {decide_rate / rule_engine_rate:>12.2f}")


if __name__ == "__main__":
    main()
