from __future__ import annotations

import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pcn.risk.admission import (
    CompiledEnsemble,
    _matrix,
    _sample,
    auroc,
    calibration_table,
    compile_model,
    risk_ranks,
    top_capture,
)


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


def _fitted(n: int = 3000, leaves: int = 15, seed: int = 0) -> tuple[object, np.ndarray]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    x = np.column_stack([
        rng.integers(0, 100, n).astype(float),  # age-like, many ties
        rng.integers(0, 2, n).astype(float),  # a flag
        rng.normal(size=n),  # continuous
        np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 37, n) / 36),  # missing values
        rng.normal(size=n),  # noise the trees may never split on
    ])
    logit = 0.04 * x[:, 0] - 3 + x[:, 1] + np.nan_to_num(x[:, 3], nan=0.5) * 2
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=leaves,
                                           min_samples_leaf=20, random_state=0)
    return model.fit(x, y), x


@pytest.mark.parametrize("leaves", [2, 15, 31])
def test_compiled_ensemble_scores_bit_for_bit_like_scikit_learn(leaves: int) -> None:
    model, x = _fitted(leaves=leaves)
    compiled = CompiledEnsemble(model)
    rng = np.random.default_rng(1)
    new = x[rng.permutation(len(x))].copy()
    new[::7, 0] = np.nan  # missing where training had none
    new[::11, 2] = np.inf
    new[::13, 3] = -0.0
    for rows in (x, new, new[:1]):
        expected = model.predict_proba(rows)[:, 1]  # type: ignore[attr-defined]
        assert np.array_equal(compiled.risk(rows), expected)
    with pytest.raises(ValueError) as refused:
        model.predict_proba(new[:0])  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=re.escape(str(refused.value))):
        compiled.risk(new[:0])


def test_compiled_ensemble_renumbers_patterns_before_the_key_overflows() -> None:
    model, x = _fitted(n=4000)
    compiled = CompiledEnsemble(model)
    # pretend every feature has 2**20 bins so that the pattern key must be renumbered
    compiled.cuts = {f: np.concatenate([cuts, np.full(2**20, np.inf)])
                     for f, cuts in compiled.cuts.items()}
    assert np.array_equal(compiled.risk(x), model.predict_proba(x)[:, 1])  # type: ignore[attr-defined]


def test_compile_model_leaves_other_models_as_they_are() -> None:
    other = object()
    assert compile_model(other) is other


def test_cached_compiled_model_scores_without_importing_scikit_learn(tmp_path: Path) -> None:
    model, x = _fitted()
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(compile_model(model)))
    np.save(tmp_path / "x.npy", x)
    code = (
        "import pickle, sys, numpy as np\n"
        f"m = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        f"np.save({str(tmp_path / 'p.npy')!r}, m.risk(np.load({str(tmp_path / 'x.npy')!r})))\n"
        "assert not any(name.startswith('sklearn') for name in sys.modules), 'sklearn imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    expected = model.predict_proba(x)[:, 1]  # type: ignore[attr-defined]
    assert np.array_equal(np.load(tmp_path / "p.npy"), expected)


def test_risk_ranks_match_pandas_rank() -> None:
    rng = np.random.default_rng(2)
    risk = rng.integers(0, 50, 2000) / 997  # many ties
    rank, percentile = risk_ranks(risk)
    s = pd.Series(risk)
    expected_rank = s.rank(ascending=False, method="first").astype("int64").to_numpy()
    expected_pct = (100 * s.rank(method="max", pct=True)).round(1).to_numpy()
    assert rank.dtype == np.int64 and np.array_equal(rank, expected_rank)
    assert np.array_equal(percentile, expected_pct)
    empty_rank, empty_pct = risk_ranks(np.array([]))
    assert len(empty_rank) == 0 and len(empty_pct) == 0
