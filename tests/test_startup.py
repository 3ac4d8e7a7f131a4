"""Start-up: commands that draw nothing load neither plotly nor scikit-learn (structural, not timed;
the time is measured with ``python -X importtime -m custfocus --help``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from custfocus import demo

HEAVY = ("plotly", "sklearn", "scipy.stats", "pyspark")

# Runs one command in a fresh interpreter, then reports which heavy modules it had imported.
_PROBE = """
import json, sys
from custfocus.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_after(*args: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=modules), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    demo.write(demo.generate(customers=300, seed=3), folder, fmt="parquet")
    return folder


def test_help_loads_no_heavy_module():
    assert loaded_after("--help") == []


def test_help_loads_neither_pandas_nor_the_engine():
    probe = _PROBE.replace("{heavy!r}", repr(("pandas", "numpy", "ibis", "duckdb")))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("command", [["validate"], ["retention", "--json"], ["nps", "--json"], ["clv", "--json"]])
def test_commands_that_draw_nothing_load_neither_plotly_nor_sklearn(company, command):
    loaded = loaded_after(command[0], company, *command[1:])
    assert "plotly" not in loaded and "sklearn" not in loaded and "scipy.stats" not in loaded, loaded


def test_clv_with_the_default_models_loads_no_general_optimiser_or_integrator(company):
    # BG/NBD and Gamma-Gamma are fitted by Newton steps on their analytic Hessians: importing
    # scipy.optimize and scipy.integrate (about 0.2 s) would be start-up spent on nothing.
    assert loaded_after("clv", company, "--json", modules=("scipy.optimize", "scipy.integrate")) == []
