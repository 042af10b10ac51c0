"""The simulation's odds ratios adjusted for case mix equal a logistic regression fitted here,
independently, on the individual replayed encounters, under each version."""

from __future__ import annotations

import random
from collections import Counter

import pandas as pd
import pytest
import statsmodels.formula.api as smf

from divert.monitoring.adjusted import PRIOR_LEVELS
from divert.monitoring.simulation import ELIGIBLE, NOT_ELIGIBLE, Tally, summarise


def test_adjusted_odds_ratios_match_an_independent_fit() -> None:
    rng = random.Random(7)  # noqa: S311  # a repeatable dataset, not a secret
    records = []
    tally = Tally()
    for _ in range(1500):
        group = rng.choice(["White", "Black", "Asian"])
        offence = rng.choice(["drug_possession", "theft"])
        age = rng.choice(["10–14", "15–17"])
        prior = rng.choice(PRIOR_LEVELS)
        lean = (0.7 if offence == "drug_possession" else 0.35) - (0.15 if group == "Black" else 0)
        now = rng.random() < lean
        # The draft takes out some of those with earlier encounters: more of them in one group.
        then = now and not (prior != "0" and rng.random() < (0.6 if group == "Asian" else 0.2))
        records.append(
            {"group": group, "offence": offence, "age": age, "prior": prior, "now": now, "then": then}
        )
        pair = (ELIGIBLE if now else NOT_ELIGIBLE, ELIGIBLE if then else NOT_ELIGIBLE)
        tally.joint.setdefault(group, Counter())[pair] += 1
        cell = tally.mix.setdefault((group, offence, age, prior), [0, 0, 0])
        cell[0] += 1
        cell[1] += now
        cell[2] += then
        tally.decisions += 1
    result = summarise(tally, "ethnicity_group", threshold=1)
    frame = pd.DataFrame(records)
    for side, column in (("current", "now"), ("draft", "then")):
        frame["y"] = frame[column].astype(int)
        model = smf.logit(
            "y ~ C(group, Treatment('White')) + C(offence) + C(age) + C(prior)", data=frame
        ).fit(disp=False)
        for group in ("Black", "Asian"):
            row = next(r for r in result.rows if r.group == group and r.point == "eligible")
            adjusted = row.adjusted_current if side == "current" else row.adjusted_draft
            assert adjusted is not None and adjusted.odds_ratio is not None, adjusted
            expected = float(model.params[f"C(group, Treatment('White'))[T.{group}]"])
            assert adjusted.odds_ratio == pytest.approx(2.718281828459045**expected, rel=1e-4)
