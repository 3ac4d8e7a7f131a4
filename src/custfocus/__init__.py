"""custfocus: measure and act on customer focus.

>>> import custfocus as cf
>>> company = cf.load_company("demo-company")
>>> cf.pulse.nps(company.tables["responses"], period="month")
>>> cf.value.customer_value(company).table
"""

import importlib

from custfocus.data.company import Company
from custfocus.stats import Estimate

ANALYSIS_MODULES = ("pulse", "retention", "loyalty", "value", "profitability", "interventions", "demo")

__all__ = ["Company", "Estimate", "load_company", *ANALYSIS_MODULES]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Analysis modules load on first use, so the command line starts without plotly or scikit-learn.
    if name in ANALYSIS_MODULES:
        return importlib.import_module(f"custfocus.{name}")
    raise AttributeError(f"module 'custfocus' has no attribute '{name}'")


def load_company(source, **kwargs) -> Company:
    """Load and validate a company folder or database: see :func:`custfocus.data.loading.load`."""
    from custfocus.data.loading import load  # on first use: it brings in Ibis and DuckDB

    return load(source, **kwargs)
