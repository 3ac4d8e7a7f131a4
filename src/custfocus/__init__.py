"""custfocus: measure and act on customer focus.

>>> import custfocus as cf
>>> company = cf.load_company("demo-company")
>>> cf.pulse.nps(company.tables["responses"])
"""

from custfocus import pulse, retention
from custfocus.data.company import Company, load_company
from custfocus.stats import Estimate

__all__ = ["Company", "Estimate", "load_company", "pulse", "retention"]
__version__ = "0.1.0"
