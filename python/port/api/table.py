"""A small column-ordered table that replaces pandas for the wire and for simple scripts.

`Table` is what props serialize into the columnar wire shape
`{column: {"0": value, "1": value, ...}}` (pandas `to_json()` "columns" orient with a
0-based RangeIndex). It covers the few operations feldspar scripts use on DataFrames
(length, emptiness, head, sorting, renaming, column subsets) and nothing more.

pandas is optional: it is imported lazily, only to recognise and convert a DataFrame
or to produce one on request, so this module imports fine without it.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterable, Iterator, Mapping, Sequence


def _is_dataframe(value: Any) -> bool:
    # Checked by module name so pandas is never imported just to answer "no".
    module = type(value).__module__ or ""
    return module.startswith("pandas") and type(value).__name__ == "DataFrame"


def _clean_cell(value: Any) -> Any:
    # NaN has no JSON spelling; pandas emits null for it, and so do we.
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _index_sort_key(key: Any) -> tuple:
    # Columnar input keys are "0".."n-1"; sort them numerically so "10" follows "9".
    try:
        return (0, int(key), "")
    except (TypeError, ValueError):
        return (1, 0, str(key))


class Table:
    """Rows of cells under ordered, named columns.

    Accepts a list of dicts (columns in order of first appearance, missing cells
    become None), a list of tuples/lists together with `columns=`, a dict of columns
    in either `{col: [values]}` or columnar `{col: {"0": v}}` form, another `Table`,
    or a pandas DataFrame.
    """

    # Invariant: every list in `_data` has length `_n_rows`, and `_columns` holds the
    # keys of `_data` in display order.
    def __init__(self, data: Any = None, columns: Sequence[str] | None = None) -> None:
        self._columns: list[str] = []
        self._data: dict[str, list] = {}
        self._n_rows = 0
        if data is None:
            for column in columns or []:
                self._add_column(column, [])
            return
        column_shaped = True
        if isinstance(data, Table):
            self._from_columns({c: list(data._data[c]) for c in data._columns}, data._n_rows)
        elif _is_dataframe(data):
            self._from_dataframe(data)
        elif isinstance(data, Mapping):
            self._from_mapping(data)
        elif isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
            column_shaped = False
            self._from_rows(list(data), columns)
        else:
            raise TypeError(f"cannot build a Table from {type(data).__name__}")
        if columns is not None and column_shaped:
            # For column-shaped input `columns=` selects and orders, as in pandas.
            selected = self.select([str(c) for c in columns])
            self._columns, self._data, self._n_rows = selected._columns, selected._data, selected._n_rows

    # Construction helpers.

    def _add_column(self, name: str, values: list) -> None:
        name = str(name)
        if name in self._data:
            raise ValueError(f"duplicate column {name!r}")
        self._columns.append(name)
        self._data[name] = values

    def _from_columns(self, columns: Mapping[str, list], n_rows: int) -> None:
        self._n_rows = n_rows
        for name, values in columns.items():
            self._add_column(name, [_clean_cell(v) for v in values])

    def _from_dataframe(self, frame: Any) -> None:
        # Going through pandas' own JSON keeps the wire identical to what feldspar
        # sends (NaN → null, int columns with NaN as floats, timestamps as epoch ms).
        columnar = json.loads(frame.reset_index(drop=True).to_json(orient="columns"))
        self._from_mapping(columnar)
        if not columnar:
            self._n_rows = 0

    def _from_mapping(self, mapping: Mapping) -> None:
        values = list(mapping.values())
        if values and all(isinstance(v, Mapping) for v in values):
            index_keys: list = []
            seen = set()
            for column_values in values:
                for key in column_values:
                    if str(key) not in seen:
                        seen.add(str(key))
                        index_keys.append(str(key))
            index_keys.sort(key=_index_sort_key)
            columns = {}
            for name, column_values in mapping.items():
                by_str_key = {str(k): v for k, v in column_values.items()}
                columns[name] = [by_str_key.get(k) for k in index_keys]
            self._from_columns(columns, len(index_keys))
            return
        lengths = set()
        columns = {}
        for name, column_values in mapping.items():
            if isinstance(column_values, (str, bytes)) or not isinstance(column_values, Iterable):
                raise TypeError(f"column {name!r} must be a list of values or an index→value dict")
            column_list = list(column_values)
            lengths.add(len(column_list))
            columns[name] = column_list
        if len(lengths) > 1:
            raise ValueError("all columns must have the same length")
        self._from_columns(columns, lengths.pop() if lengths else 0)

    def _from_rows(self, rows: list, columns: Sequence[str] | None) -> None:
        if rows and all(isinstance(row, Mapping) for row in rows):
            names: list[str] = [str(c) for c in columns] if columns is not None else []
            if columns is None:
                seen = set()
                for row in rows:
                    for key in row:
                        if str(key) not in seen:
                            seen.add(str(key))
                            names.append(str(key))
            data = {name: [] for name in names}
            for row in rows:
                by_str_key = {str(k): v for k, v in row.items()}
                for name in names:
                    data[name].append(by_str_key.get(name))
            self._from_columns(data, len(rows))
            return
        if columns is None:
            if rows:
                raise TypeError("rows that are not dicts need columns=")
            return
        names = [str(c) for c in columns]
        data = {name: [] for name in names}
        for row in rows:
            cells = list(row)
            if len(cells) != len(names):
                raise ValueError(f"row has {len(cells)} cells but there are {len(names)} columns")
            for name, cell in zip(names, cells):
                data[name].append(cell)
        self._from_columns(data, len(rows))

    @classmethod
    def _build(cls, columns: list[str], data: dict[str, list], n_rows: int) -> "Table":
        table = cls()
        table._columns, table._data, table._n_rows = columns, data, n_rows
        return table

    # Inspection.

    def __len__(self) -> int:
        return self._n_rows

    @property
    def empty(self) -> bool:
        """True when there are no rows or no columns, as with a DataFrame."""
        return self._n_rows == 0 or not self._columns

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    @property
    def shape(self) -> tuple[int, int]:
        return (self._n_rows, len(self._columns))

    def __iter__(self) -> Iterator[dict]:
        """Rows as dicts, unlike a DataFrame (which iterates column names)."""
        for row_idx in range(self._n_rows):
            yield {name: self._data[name][row_idx] for name in self._columns}

    def rows(self) -> list[dict]:
        return list(self)

    def __getitem__(self, column: str) -> list:
        return list(self._data[column])

    def __contains__(self, column: object) -> bool:
        return column in self._data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return self._columns == other._columns and self._data == other._data and self._n_rows == other._n_rows

    def __repr__(self) -> str:
        # Shape only: cells may hold participant data and reprs end up in tracebacks.
        return f"Table(rows={self._n_rows}, columns={self._columns!r})"

    # Operations returning new tables.

    def head(self, n: int = 5) -> "Table":
        """The first `n` rows; `n` beyond the length is fine and negative counts give none."""
        n = max(0, min(int(n), self._n_rows))
        return Table._build(list(self._columns), {c: self._data[c][:n] for c in self._columns}, n)

    def select(self, columns: Sequence[str]) -> "Table":
        missing = [c for c in columns if c not in self._data]
        if missing:
            raise KeyError(f"unknown columns: {missing!r}")
        return Table._build(list(columns), {c: list(self._data[c]) for c in columns}, self._n_rows)

    def rename(self, columns: Mapping[str, str] | None = None) -> "Table":
        """Rename columns; names not in the mapping stay as they are."""
        mapping = dict(columns or {})
        new_names = [str(mapping.get(c, c)) for c in self._columns]
        if len(set(new_names)) != len(new_names):
            raise ValueError("renaming would create duplicate columns")
        return Table._build(new_names, {mapping.get(c, c): list(self._data[c]) for c in self._columns}, self._n_rows)

    def sort_by(self, column: str, ascending: bool = True) -> "Table":
        """A stable sort on one column; None stays last in either direction."""
        values = self._data[column]
        present = [i for i in range(self._n_rows) if values[i] is not None]
        absent = [i for i in range(self._n_rows) if values[i] is None]
        try:
            present.sort(key=lambda i: values[i], reverse=not ascending)
        except TypeError:
            # Mixed types (say int and str) have no order in Python 3; fall back to text.
            present.sort(key=lambda i: str(values[i]), reverse=not ascending)
        order = present + absent
        return Table._build(
            list(self._columns), {c: [self._data[c][i] for i in order] for c in self._columns}, self._n_rows
        )

    def sort_values(self, by: str, ascending: bool = True) -> "Table":
        """pandas-style alias of `sort_by`."""
        return self.sort_by(by, ascending=ascending)

    def filter(self, predicate) -> "Table":
        """Rows for which `predicate(row_dict)` is true."""
        keep = [i for i, row in enumerate(self) if predicate(row)]
        return Table._build(list(self._columns), {c: [self._data[c][i] for i in keep] for c in self._columns}, len(keep))

    # Wire output.

    def to_dict(self) -> dict:
        """Columnar dict `{column: {"0": v, ...}}` with string RangeIndex keys."""
        return {c: {str(i): _clean_cell(v) for i, v in enumerate(self._data[c])} for c in self._columns}

    def to_records(self) -> list[dict]:
        return self.rows()

    def to_json(self) -> str:
        """The columnar wire shape as JSON text; values JSON cannot hold are stringified."""
        # Compact separators, as pandas writes them.
        return json.dumps(self.to_dict(), default=str, allow_nan=False, separators=(",", ":"))

    def to_pandas(self):
        """A pandas DataFrame copy; raises ImportError when pandas is missing."""
        import pandas  # noqa: PLC0415 - pandas is optional by design

        return pandas.DataFrame({c: list(self._data[c]) for c in self._columns}, columns=list(self._columns))


def as_table(value: Any) -> Table:
    """Coerce anything `Table` accepts (including a Table itself) into a Table."""
    if isinstance(value, Table):
        return value
    return Table(value)


__all__ = ["Table", "as_table"]
