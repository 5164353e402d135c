import datetime as dt

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from pcn.record.hashing import TableHasher, table_hash

rows = st.lists(
    st.tuples(
        st.integers(min_value=-(2**40), max_value=2**40),
        st.one_of(st.none(), st.text(max_size=8)),
        st.one_of(st.none(), st.floats(allow_nan=False)),
        st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    ),
    min_size=1,
    max_size=40,
)


def _table(data: list[tuple]) -> pa.Table:
    a, b, c, d = zip(*data, strict=True) if data else ([], [], [], [])
    return pa.table(
        {
            "a": pa.array(a, pa.int64()),
            "b": pa.array(b, pa.string()),
            "c": pa.array(c, pa.float64()),
            "d": pa.array(d, pa.date32()),
        }
    )


@given(rows, st.randoms())
def test_hash_ignores_row_order_and_batching(data: list[tuple], rnd) -> None:
    shuffled = list(data)
    rnd.shuffle(shuffled)
    whole = table_hash(_table(data))
    h = TableHasher(_table(data).schema)
    cut = rnd.randint(0, len(shuffled))
    h.update(_table(shuffled[:cut]) if cut else _table(shuffled).slice(0, 0))
    h.update(_table(shuffled[cut:]) if cut < len(shuffled) else _table(shuffled).slice(0, 0))
    assert h.hexdigest() == whole


@given(rows)
def test_hash_changes_when_a_value_changes(data: list[tuple]) -> None:
    changed = list(data)
    a, b, c, d = changed[0]
    changed[0] = (a + 1, b, c, d)
    assert table_hash(_table(changed)) != table_hash(_table(data))


def test_null_differs_from_empty_string_and_zero() -> None:
    t1 = pa.table({"b": pa.array([None], pa.string())})
    t2 = pa.table({"b": pa.array([""], pa.string())})
    assert table_hash(t1) != table_hash(t2)
    f1 = pa.table({"c": pa.array([None], pa.float64())})
    f2 = pa.table({"c": pa.array([0.0], pa.float64())})
    assert table_hash(f1) != table_hash(f2)


def test_duplicate_rows_count() -> None:
    one = pa.table({"a": pa.array([1], pa.int64())})
    two = pa.table({"a": pa.array([1, 1], pa.int64())})
    assert table_hash(one) != table_hash(two)
