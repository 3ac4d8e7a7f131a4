"""Demo companies for the benchmarks, generated once into ``benchmarks/data/`` (git-ignored).

Customers are generated in chunks, each with its own seed and ids (``K<chunk>-<id>``), and each
table is appended to one Parquet file, so that a company of a hundred million transactions never
sits in memory at once (a chunk of :data:`CHUNK_CUSTOMERS` takes about 1 GB while it is made).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CHUNK_CUSTOMERS = 400_000
ID_COLUMNS = ("customer_id", "order_id", "employee_id")


def demo_company(name: str, customers: int, columns: dict[str, list[str]] | None = None) -> Path:
    """The folder ``benchmarks/data/<name>`` with the demo company of ``customers`` customers as
    Parquet and its ``custfocus.toml``; ``columns`` keeps only those tables and columns."""
    folder = DATA / name
    if (folder / "custfocus.toml").exists():
        return folder
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from custfocus import demo
    from custfocus.demo.planted import PLANTED

    chunks = math.ceil(customers / CHUNK_CUSTOMERS)
    print(f"generating {name}: {customers:,} customers in {chunks} chunk(s) ...", flush=True)
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    started = time.perf_counter()
    for chunk in range(chunks):
        size = min(CHUNK_CUSTOMERS, customers - chunk * CHUNK_CUSTOMERS)
        for table_name, table in demo.generate(customers=size, seed=1000 + chunk).items():
            if columns is not None:
                if table_name not in columns:
                    continue
                table = table.select(columns[table_name])
            for column in ID_COLUMNS:
                if column in table.column_names:
                    prefixed = pc.utf8_replace_slice(table[column], 0, 0, f"K{chunk:03d}-")
                    table = table.set_column(table.column_names.index(column), column, prefixed)
            if table_name not in writers:
                writers[table_name] = pq.ParquetWriter(partial / f"{table_name}.parquet", table.schema)
            writers[table_name].write_table(table)
        print(f"  chunk {chunk + 1}/{chunks} after {time.perf_counter() - started:.0f} s", flush=True)
    for writer in writers.values():
        writer.close()
    (partial / "custfocus.toml").write_text(
        f'[company]\nname = "{PLANTED.company_name}"\ncurrency = "{PLANTED.currency}"\n'
        f'as_of = "{PLANTED.default_as_of.isoformat()}"\n', encoding="utf-8")
    partial.rename(folder)
    return folder
