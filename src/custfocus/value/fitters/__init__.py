"""Customer-base models fitted by exact maximum likelihood, one file per model family.

* :class:`BGNBD` — beta-geometric/NBD (Fader, Hardie & Lee 2005), :mod:`.bgnbd`;
* :class:`MBGNBD` — modified BG/NBD (Batislam, Denizel & Filiztekin 2007), :mod:`.mbgnbd`;
* :class:`ParetoNBD` — Pareto/NBD (Schmittlein, Morrison & Colombo 1987), :mod:`.pareto_nbd`;
* :class:`BGBB` — beta-geometric/beta-Bernoulli for discrete opportunities such as yearly
  donations or renewals (Fader, Hardie & Shang 2010), :mod:`.bgbb`;
* :class:`GammaGamma` — spend per transaction (Fader & Hardie 2013), :mod:`.gamma_gamma`;
* :func:`customer_lifetime_value` — discounted expected purchases times expected spend.

The shared maximum-likelihood core (optimiser, standard errors, summary, convergence, scikit-learn
conventions) is :mod:`.mle`. lifetimes' names for the same models are in :mod:`custfocus.lifetimes`.
"""

from custfocus.value.fitters.bgbb import BGBB
from custfocus.value.fitters.bgnbd import BGNBD
from custfocus.value.fitters.gamma_gamma import GammaGamma
from custfocus.value.fitters.lifetime_value import customer_lifetime_value
from custfocus.value.fitters.mbgnbd import MBGNBD
from custfocus.value.fitters.mle import ConvergenceWarning, merge_equal_rows
from custfocus.value.fitters.pareto_nbd import ParetoNBD

__all__ = [
    "BGBB",
    "BGNBD",
    "MBGNBD",
    "ConvergenceWarning",
    "GammaGamma",
    "ParetoNBD",
    "customer_lifetime_value",
    "merge_equal_rows",
]
