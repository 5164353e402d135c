"""Emergency admission risk: a model fitted on the record's own history.

Features are taken from the patient profile at a past index date; the outcome is any emergency
admission in the following 12 months. The model is fitted at ``as_of − 24 months`` (outcome window
up to ``as_of − 12 months``), evaluated out of time at ``as_of − 12 months`` (outcome up to
``as_of``), then refitted on both periods and applied to the profile at ``as_of`` to score every
patient's risk for the next 12 months. The same code retrains on real data: nothing is specific to
the synthetic twin.

Model: scikit-learn histogram gradient boosting (handles missing values natively, monotone in
nothing by assumption), with a fixed random state so scores are reproducible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Profile columns used as features (missing ones are skipped, so the model degrades gracefully).
FEATURES = (
    "age",
    "male",
    "imd_decile",
    "ltc_count",
    "efi_score",
    "cms_score",
    "distinct_medicines_12m",
    "care_home",
    "housebound",
    "emergency_admissions_12m",
    "ae_attendances_12m",
    "reg_heart_failure",
    "reg_copd",
    "reg_dementia",
    "reg_ckd",
    "reg_diabetes",
    "reg_af",
    "reg_palliative_care",
    "reg_cancer",
    "reg_smi",
    "gp_appointments_12m",
    "dna_12m",
)


@dataclass
class AdmissionModelReport:
    train_index_date: dt.date
    test_index_date: dt.date
    n_train: int
    n_test: int
    outcome_rate_test: float
    auroc: float
    top5_capture: float
    calibration: pd.DataFrame = field(repr=False)
    calibration_slope: float
    calibration_in_the_large: float
    features: list[str]

    def summary(self) -> str:
        return (
            f"AUROC {self.auroc:.3f}; top 5% capture {100 * self.top5_capture:.1f}% of "
            f"admissions; calibration slope {self.calibration_slope:.2f}, "
            f"observed/expected {self.calibration_in_the_large:.2f} (test: {self.n_test:,} "
            f"patients, outcome rate {100 * self.outcome_rate_test:.1f}%)"
        )


#: At most this many patients per period are used to fit and evaluate the model. Beyond a few
#: hundred thousand patients (thousands of admissions) more rows barely change a model of 22
#: features but make fitting grow without bound; a fixed-seed sample keeps runs reproducible.
MAX_FIT_PATIENTS = 100_000
SAMPLE_SEED = 20261124


def _matrix(profile: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    columns: dict[str, pd.Series] = {c: profile[c] for c in FEATURES if c in profile.columns}
    if "male" in FEATURES and "male" not in columns and "sex" in profile.columns:
        columns["male"] = (profile["sex"] == "M").astype(float)
    cols = [c for c in FEATURES if c in columns]
    x = np.empty((len(profile), len(cols)), dtype=float)
    for j, c in enumerate(cols):
        x[:, j] = pd.to_numeric(columns[c], errors="coerce").astype(float).to_numpy()
    return x, cols


def _sample(profile: pd.DataFrame, limit: int = MAX_FIT_PATIENTS) -> pd.DataFrame:
    """Up to ``limit`` patients, drawn with a fixed seed from the profile sorted by patient id."""
    if len(profile) <= limit:
        return profile
    ordered = profile.sort_values("patient_id", kind="mergesort")
    keep = np.random.default_rng(SAMPLE_SEED).choice(len(ordered), size=limit, replace=False)
    return ordered.iloc[np.sort(keep)]


def outcomes(
    hospital: pd.DataFrame, patient_ids: pd.Series, start: dt.date, months: int = 12
) -> np.ndarray:
    """1 when the patient has an emergency admission in (start, start + months]."""
    end = pd.Timestamp(start) + pd.DateOffset(months=months)
    h = hospital[(hospital["kind"] == "emergency_admission")]
    d = pd.to_datetime(h["start_date"])
    ids = set(h.loc[(d > pd.Timestamp(start)) & (d <= end), "patient_id"].astype("int64"))
    return patient_ids.astype("int64").isin(ids).to_numpy(dtype=int)


def auroc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def top_capture(y: np.ndarray, score: np.ndarray, share: float = 0.05) -> float:
    """Share of all outcomes that fall in the top ``share`` of patients by score."""
    if y.sum() == 0:
        return float("nan")
    k = max(1, round(share * len(y)))
    top = np.argsort(-score, kind="mergesort")[:k]
    return float(y[top].sum() / y.sum())


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    order = np.argsort(p, kind="mergesort")
    groups = np.array_split(order, bins)
    return pd.DataFrame(
        [
            {
                "decile": i + 1,
                "patients": len(g),
                "mean_predicted": float(p[g].mean()),
                "observed": float(y[g].mean()),
            }
            for i, g in enumerate(groups)
        ]
    )


def _calibration_slope(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression

    eps = 1e-6
    logit = np.log(np.clip(p, eps, 1 - eps) / (1 - np.clip(p, eps, 1 - eps))).reshape(-1, 1)
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(logit, y)
    return float(lr.coef_[0][0])


def _model():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.06,
        max_leaf_nodes=15,
        min_samples_leaf=80,
        l2_regularization=1.0,
        random_state=20261124,
    )


def fit(
    profile_at: Callable[[dt.date], pd.DataFrame], hospital: pd.DataFrame, as_of: dt.date
) -> tuple[object, AdmissionModelReport]:
    """Fit at as_of − 24 months, evaluate out of time at as_of − 12 months, then refit on both
    periods. Returns (the refitted model, the out-of-time evaluation). Each period is sampled
down to ``MAX_FIT_PATIENTS``."""
    t_train = (pd.Timestamp(as_of) - pd.DateOffset(months=24)).date()
    t_test = (pd.Timestamp(as_of) - pd.DateOffset(months=12)).date()
    train = _sample(profile_at(t_train))
    test = _sample(profile_at(t_test))
    x_train, cols = _matrix(train)
    y_train = outcomes(hospital, train["patient_id"], t_train)
    x_test, cols_test = _matrix(test)
    if cols != cols_test:
        raise ValueError("training and test profiles have different feature columns")
    y_test = outcomes(hospital, test["patient_id"], t_test)
    if y_train.sum() == 0 or y_test.sum() == 0:
        raise ValueError("no emergency admissions in the history: cannot fit the model")
    model = _model().fit(x_train, y_train)
    p_test = model.predict_proba(x_test)[:, 1]
    report = AdmissionModelReport(
        train_index_date=t_train,
        test_index_date=t_test,
        n_train=len(y_train),
        n_test=len(y_test),
        outcome_rate_test=float(y_test.mean()),
        auroc=auroc(y_test, p_test),
        top5_capture=top_capture(y_test, p_test),
        calibration=calibration_table(y_test, p_test),
        calibration_slope=_calibration_slope(y_test, p_test),
        calibration_in_the_large=float(y_test.mean() / max(p_test.mean(), 1e-12)),
        features=cols,
    )
    final = _model().fit(np.vstack([x_train, x_test]), np.concatenate([y_train, y_test]))
    return final, report


class CompiledEnsemble:
    """A fitted binary ``HistGradientBoostingClassifier`` as plain arrays, scored with numpy.

    Unpickling the scikit-learn model imports scikit-learn (about a second, more than scoring a
    PCN takes), so the model cache keeps this form instead. Risks are bit-for-bit those of
    ``model.predict_proba(x)[:, 1]``: the same comparisons decide every split, leaf values are
    added in the same tree order onto the same baseline, and the sum goes through the same
    ``scipy.special.expit`` that scikit-learn's logit link calls.

    Trees are evaluated QuickScorer-style (Lucchese et al., SIGIR 2015): leaves are numbered left
    to right and every row starts with all of them possible; a split that sends the row right
    rules out the leaves of its left subtree; the leftmost leaf still possible is the one the row
    reaches. Rows on the same side of every threshold the ensemble uses (and missing in the same
    features) reach the same leaves, so each such pattern is scored once.
    """

    def __init__(self, model: object) -> None:
        predictors = model._predictors  # type: ignore[attr-defined]
        if any(len(iteration) != 1 for iteration in predictors):
            raise ValueError("only a binary classifier (one tree per iteration) can be compiled")
        self.n_features = int(model.n_features_in_)  # type: ignore[attr-defined]
        baseline = np.asarray(model._baseline_prediction)  # type: ignore[attr-defined]
        self.baseline = float(baseline.reshape(-1)[0])
        self.trees = [_CompiledTree.from_nodes(p.nodes) for (p,) in predictors]
        used: dict[int, set[float]] = {}
        for tree in self.trees:
            for f, t in zip(tree.features.tolist(), tree.thresholds.tolist(), strict=True):
                used.setdefault(f, set()).add(t)
        #: per feature split on, every threshold used, sorted: the bins of the row patterns
        self.cuts = {f: np.array(sorted(ts), dtype=np.float64) for f, ts in sorted(used.items())}

    def risk(self, x: np.ndarray) -> np.ndarray:
        """Probability of the positive class for every row of ``x`` (rows x features)."""
        from scipy.special import expit  # what scikit-learn's logit link applies

        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} feature columns, got shape {x.shape}")
        if len(x) == 0:  # scikit-learn's refusal, word for word (it ends up in the model report)
            raise ValueError(
                f"Found array with 0 sample(s) (shape={x.shape}) while a minimum of 1 is "
                "required by HistGradientBoostingClassifier."
            )
        pattern, representative = self._patterns(x)
        rows = np.asfortranarray(x[representative])
        raw = np.full(len(rows), self.baseline)
        for tree in self.trees:
            raw += tree.leaf_values(rows)
        return np.asarray(expit(raw))[pattern]

    def _patterns(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A pattern number per row (equal for rows that every split treats alike) and, for
        each pattern, one row that has it."""
        key = np.zeros(len(x), dtype=np.int64)
        bound = 1  # key < bound
        for f, cuts in self.cuts.items():
            # x <= cuts[k] exactly when bin <= k; missing values get a bin of their own
            bins = np.searchsorted(cuts, x[:, f], side="left")
            bins[np.isnan(x[:, f])] = len(cuts) + 1
            radix = len(cuts) + 2
            if bound * radix >= 2**62:  # renumber the patterns so far, densely, to not overflow
                key, seen = pd.factorize(key)
                bound = max(len(seen), 1)
            key = key * radix + bins
            bound *= radix
        pattern, seen = pd.factorize(key)
        representative = np.empty(len(seen), dtype=np.intp)
        representative[pattern] = np.arange(len(x))  # any row of a pattern will do
        return pattern, representative


class _CompiledTree:
    """One tree: per split its feature, threshold, where missing values go and the bit mask of
    leaves a row keeps when it goes right; the leaf values, left to right."""

    def __init__(self, features: np.ndarray, thresholds: np.ndarray, missing_left: np.ndarray,
                 keep_if_right: np.ndarray, values: np.ndarray) -> None:
        self.features = features
        self.thresholds = thresholds
        self.missing_left = missing_left
        self.keep_if_right = keep_if_right
        self.values = values

    @classmethod
    def from_nodes(cls, nodes: np.ndarray) -> _CompiledTree:
        """From a scikit-learn ``TreePredictor.nodes`` array (node 0 is the root)."""
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits cannot be compiled")
        leaf_number: dict[int, int] = {}
        splits: list[int] = []
        stack = [0]
        while stack:  # depth first, left before right: leaves numbered left to right
            i = stack.pop()
            if nodes["is_leaf"][i]:
                leaf_number[i] = len(leaf_number)
            else:
                splits.append(i)
                stack += [int(nodes["right"][i]), int(nodes["left"][i])]
        n_leaves = len(leaf_number)
        if n_leaves > 64:
            raise ValueError(f"a tree of {n_leaves} leaves cannot be compiled (at most 64)")
        dtype = next(np.dtype(t) for t in ("uint16", "uint32", "uint64")
                     if np.dtype(t).itemsize * 8 >= n_leaves)
        everything = (1 << (8 * dtype.itemsize)) - 1

        def leaf_span(i: int) -> tuple[int, int]:
            if nodes["is_leaf"][i]:
                return leaf_number[i], leaf_number[i]
            return leaf_span(int(nodes["left"][i]))[0], leaf_span(int(nodes["right"][i]))[1]

        keep = []
        for i in splits:
            first, last = leaf_span(int(nodes["left"][i]))
            left_leaves = ((1 << (last + 1)) - 1) ^ ((1 << first) - 1)
            keep.append(everything ^ left_leaves)
        leaves = sorted(leaf_number, key=leaf_number.__getitem__)
        return cls(
            features=nodes["feature_idx"][splits].astype(np.intp),
            thresholds=nodes["num_threshold"][splits].astype(np.float64),
            missing_left=nodes["missing_go_to_left"][splits].astype(bool),
            keep_if_right=np.array(keep, dtype=dtype),
            values=nodes["value"][leaves].astype(np.float64),
        )

    def leaf_values(self, rows: np.ndarray) -> np.ndarray:
        """The value of the leaf each row (of a Fortran-ordered matrix) reaches."""
        dtype = self.keep_if_right.dtype
        possible = np.full(len(rows), np.iinfo(dtype).max, dtype=dtype)
        everything = dtype.type(np.iinfo(dtype).max)
        for f, t, nan_left, keep in zip(self.features, self.thresholds, self.missing_left,
                                        self.keep_if_right, strict=True):
            column = rows[:, f]
            # scikit-learn: missing -> the split's side; otherwise left when x <= threshold
            goes_right = (column > t) if nan_left else ~(column <= t)
            possible &= np.where(goes_right, keep, everything)
        lowest = possible & (~possible + dtype.type(1))  # the leftmost possible leaf's bit
        _, exponent = np.frexp(lowest.astype(np.float64))
        return self.values[exponent - 1]


def compile_model(model: object) -> object:
    """The model as a :class:`CompiledEnsemble` when it can be compiled, else as it is."""
    try:
        return CompiledEnsemble(model)
    except (AttributeError, ValueError):
        return model


def risk_ranks(risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank (1 = highest risk; equal risks in row order) and percentile (100 x the share of
    patients at or below the risk, to 0.1) from one sort: the values of pandas'
    ``rank(ascending=False, method="first")`` and ``100 * rank(method="max", pct=True)``."""
    n = len(risk)
    descending = np.argsort(-risk, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[descending] = np.arange(1, n + 1)
    at_or_below = np.searchsorted(risk[descending[::-1]], risk, side="right")
    return rank, np.round(100 * (at_or_below / n), 1)


def score(model: object, profile: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Risk, rank (1 = highest) and percentile for every patient of ``profile``."""
    x_now, cols = _matrix(profile)
    if cols != features:
        raise ValueError(f"the model was fitted on {features}, the profile offers {cols}")
    if isinstance(model, CompiledEnsemble):
        risk = model.risk(x_now)
    else:
        risk = model.predict_proba(x_now)[:, 1]  # type: ignore[attr-defined]
    rank, percentile = risk_ranks(risk)
    return pd.DataFrame(
        {
            "patient_id": profile["patient_id"].to_numpy(),
            "admission_risk": risk,
            "admission_risk_rank": rank,
            "admission_risk_percentile": percentile,
        }
    )
