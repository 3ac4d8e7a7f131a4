"""scikit-learn's estimator protocol, without importing scikit-learn.

Importing scikit-learn costs about a second (it loads ``scipy.stats``), which ``custfocus clv``
would pay before any work: issue 10 asks commands that draw nothing to start without it. The
protocol is small: the settings are the constructor's keyword arguments, kept as attributes of
the same names; ``get_params`` and ``set_params`` read and write them, and with them
:func:`sklearn.base.clone` and scikit-learn's grid searches work on our models as on theirs.
"""

from __future__ import annotations

import inspect


class Estimator:
    """Base of the models: ``get_params``, ``set_params`` as scikit-learn's ``BaseEstimator``."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(name for name, p in signature.parameters.items()
                      if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's settings; with ``deep``, those of settings that are estimators too,
        as ``name__setting``."""
        params = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{key}", inner) for key, inner in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params) -> Estimator:
        valid = self._get_param_names()
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, inner = key.partition("__")
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for {type(self).__name__}; "
                                 f"valid parameters are {', '.join(valid)}.")
            if inner:
                nested.setdefault(name, {})[inner] = value
            else:
                setattr(self, name, value)
        for name, inner in nested.items():
            getattr(self, name).set_params(**inner)
        return self
