from __future__ import annotations

import numpy as np
import pandas as pd

from pcn.risk.admission import _matrix, _sample, auroc, calibration_table, top_capture


def test_auroc_against_pairwise_definition() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    s = rng.random(60).round(1)  # ties on purpose
    pos, neg = s[y == 1], s[y == 0]
    pairs = [(1.0 if p > n else 0.5 if p == n else 0.0) for p in pos for n in neg]
    assert abs(auroc(y, s) - float(np.mean(pairs))) < 1e-12


def test_perfect_and_useless_scores() -> None:
    y = np.array([0, 0, 0, 1, 1])
    assert auroc(y, np.array([0.1, 0.2, 0.3, 0.8, 0.9])) == 1.0
    assert auroc(y, np.array([0.5] * 5)) == 0.5


def test_top_capture_and_calibration() -> None:
    y = np.zeros(100, dtype=int)
    y[:5] = 1
    score = np.linspace(1, 0, 100)  # the five positives have the highest scores
    assert top_capture(y, score, 0.05) == 1.0
    cal = calibration_table(y, score / 10, bins=10)
    assert cal.patients.sum() == 100
    assert cal.observed.iloc[-1] == 0.5 and cal.observed.iloc[0] == 0.0
    assert isinstance(cal, pd.DataFrame)


def test_fit_sample_is_capped_reproducible_and_order_independent() -> None:
    profile = pd.DataFrame({"patient_id": np.arange(1000, 0, -1), "age": np.arange(1000)})
    small = _sample(profile, limit=100)
    assert len(small) == 100 and small.patient_id.is_unique
    shuffled = profile.sample(frac=1, random_state=3)
    assert _sample(shuffled, limit=100).patient_id.tolist() == small.patient_id.tolist()
    assert _sample(profile, limit=5000) is profile  # under the cap: everyone


def test_feature_matrix_derives_male_and_skips_missing_columns() -> None:
    profile = pd.DataFrame({"patient_id": [1, 2], "age": [70, 40], "sex": ["M", "F"],
                            "ltc_count": pd.array([2, None], dtype="Int64")})
    x, cols = _matrix(profile)
    assert cols == ["age", "male", "ltc_count"]
    assert x[:, 1].tolist() == [1.0, 0.0]
    assert x[0, 2] == 2.0 and np.isnan(x[1, 2])
