"""pandas is optional: everything imports without it, and DataFrames work when it is present."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import PYTHON_ROOT, REPO_ROOT


def test_every_module_imports_with_pandas_blocked():
    # sys.modules["pandas"] = None makes any `import pandas` raise ImportError.
    code = textwrap.dedent(
        """
        import sys
        sys.modules["pandas"] = None
        sys.modules["numpy"] = None
        import port
        import port.main, port.api.commands, port.api.props, port.api.d3i_props, port.api.table
        import port.api.file_utils, port.helpers.port_helpers, port.helpers.flow_builder
        import port.helpers.uploads, port.helpers.validate, port.helpers.extraction_helpers
        import studies.demo.script
        from port.api.table import Table
        assert Table([{"a": 1}]).to_json() == '{"a":{"0":1}}'
        assert callable(port.start)
        try:
            Table([{"a": 1}]).to_pandas()
        except ImportError:
            pass
        else:
            raise SystemExit("to_pandas should need pandas")
        print("ok")
        """
    )
    env_path = f"{PYTHON_ROOT}:{REPO_ROOT}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": env_path}, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_port_does_not_import_pandas_eagerly():
    code = "import sys, port, port.helpers.flow_builder, port.helpers.extraction_helpers; print('pandas' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(PYTHON_ROOT)}, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


pd = pytest.importorskip("pandas")


def test_table_from_dataframe_matches_pandas_json():
    from port.api.table import Table

    frame = pd.DataFrame({"a": [1, None, 3], "b": ["x", "y", None]}, index=[10, 11, 12])
    table = Table(frame)
    assert len(table) == 3
    assert table.to_dict() == json.loads(frame.reset_index(drop=True).to_json())
    assert table.to_dict()["a"] == {"0": 1.0, "1": None, "2": 3.0}
    assert table.to_pandas().shape == (3, 2)


def test_props_accept_dataframes():
    from port.api import props as p

    frame = pd.DataFrame({"a": range(5)})
    table_prompt = p.PropsUIPromptConsentFormTable("t", 1, {"en": "t"}, {"en": "d"}, frame, data_frame_max_size=2)
    assert json.loads(table_prompt.toDict()["data_frame"]) == {"a": {"0": 0, "1": 1}}
    viz = p.PropsUIPromptConsentFormTableViz("v", {"en": "t"}, frame.iloc[2:])
    assert json.loads(viz.toDict()["data_frame"]) == {"a": {"0": 2, "1": 3, "2": 4}}
    assert len(viz) == 3
