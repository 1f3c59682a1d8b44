"""`Table` construction from each input form, operations, and the columnar wire shape."""

from __future__ import annotations

import json
import math

import pytest

from port.api.table import Table

ROWS = [{"name": "b", "n": 2}, {"name": "a", "n": 1, "extra": "x"}, {"name": "c", "n": None}]


def test_from_list_of_dicts_fills_missing_cells_with_none():
    table = Table(ROWS)
    assert len(table) == 3
    assert table.columns == ["name", "n", "extra"]
    assert table["extra"] == [None, "x", None]
    assert list(table)[0] == {"name": "b", "n": 2, "extra": None}


def test_from_column_lists_and_columnar_dicts_agree():
    lists = Table({"a": [1, 2], "b": ["x", "y"]})
    columnar = Table({"a": {"0": 1, "1": 2}, "b": {"1": "y", "0": "x"}})
    assert lists == columnar
    with pytest.raises(ValueError):
        Table({"a": [1], "b": [1, 2]})


def test_columnar_keys_sort_numerically():
    table = Table({"a": {str(i): i for i in range(12)}})
    assert table["a"] == list(range(12))


def test_from_tuples_with_columns():
    table = Table([(1, "x"), (2, "y")], columns=["n", "s"])
    assert table.rows() == [{"n": 1, "s": "x"}, {"n": 2, "s": "y"}]
    with pytest.raises(TypeError):
        Table([(1, 2)])


def test_empty_tables():
    assert Table().empty and len(Table()) == 0
    assert Table([]).empty
    assert Table(columns=["a"]).empty and Table(columns=["a"]).columns == ["a"]
    assert Table({"a": []}).to_json() == '{"a":{}}'
    assert not Table(ROWS).empty


def test_to_json_is_columnar_with_range_index_and_nulls():
    table = Table([{"a": 1.5, "b": float("nan")}, {"a": None}])
    assert table.to_dict() == {"a": {"0": 1.5, "1": None}, "b": {"0": None, "1": None}}
    assert json.loads(table.to_json()) == table.to_dict()
    assert "NaN" not in table.to_json()


def test_to_json_keys_restart_at_zero_after_sort_and_head():
    table = Table(ROWS).sort_by("name").head(2)
    assert table.to_dict()["name"] == {"0": "a", "1": "b"}


def test_head_never_fails():
    table = Table(ROWS)
    assert len(table.head(100)) == 3
    assert len(table.head(0)) == 0
    assert len(table.head(-1)) == 0
    assert table.head(1).rows() == [{"name": "b", "n": 2, "extra": None}]


def test_sort_by_keeps_none_last_both_ways():
    table = Table(ROWS)
    assert table.sort_by("n")["n"] == [1, 2, None]
    assert table.sort_by("n", ascending=False)["n"] == [2, 1, None]
    assert table.sort_values("name", ascending=False)["name"] == ["c", "b", "a"]
    mixed = Table({"v": [2, "a", 1]})
    assert mixed.sort_by("v")["v"] == [1, 2, "a"]


def test_rename_and_select():
    table = Table(ROWS).rename(columns={"n": "Number"})
    assert table.columns == ["name", "Number", "extra"]
    assert table.select(["Number", "name"]).columns == ["Number", "name"]
    with pytest.raises(KeyError):
        table.select(["missing"])
    with pytest.raises(ValueError):
        table.rename(columns={"name": "extra"})


def test_filter_and_repr_has_no_cells():
    table = Table(ROWS).filter(lambda row: row["n"] is not None)
    assert len(table) == 2
    assert "secret" not in repr(Table([{"col": "secret"}]))


def test_operations_do_not_mutate():
    table = Table(ROWS)
    table.sort_by("name").rename(columns={"name": "x"}).head(1)
    assert table.columns == ["name", "n", "extra"] and table["name"] == ["b", "a", "c"]


def test_columns_selects_for_column_input():
    assert Table({"a": [1], "b": [2]}, columns=["b"]).columns == ["b"]


def test_nan_is_not_kept_in_cells():
    assert Table({"a": [math.nan]})["a"] == [None]
