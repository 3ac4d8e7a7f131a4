"""Tables kept by the engine: computed once, the same rows, no memory held, and no file left behind."""

from __future__ import annotations

import gc

import pandas as pd

from custfocus.engine import connect, keep


def test_a_kept_table_has_the_same_rows_and_its_file_goes_with_it(tmp_path):
    engine = connect("duckdb", temp_directory=tmp_path / "spill")
    frame = pd.DataFrame({"customer_id": ["a", "b", "c's", None], "value": [1.5, -2.0, 3.25, None]})
    table = engine.from_frame("values", frame)
    expression = table.mutate(double=table.value * 2)
    kept = keep(expression)
    files = list((tmp_path / "spill").glob("*.parquet"))
    assert len(files) == 1  # in the spill folder the user chose, not in memory
    pd.testing.assert_frame_equal(kept.order_by("customer_id").to_pandas(),
                                  expression.order_by("customer_id").to_pandas())
    # Computed once: the source may go, the kept rows stay.
    engine.con.drop_table("values")
    assert kept.count().to_pandas() == 4
    del kept
    gc.collect()
    assert not files[0].exists()


def test_a_relative_spill_folder_is_not_written_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = connect("duckdb", temp_directory="relative-spill")
    kept = keep(engine.from_frame("values", pd.DataFrame({"v": [1, 2]})))
    assert kept.count().to_pandas() == 2
    assert not list(tmp_path.rglob("*.parquet"))
