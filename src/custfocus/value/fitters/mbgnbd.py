"""The modified BG/NBD model (Batislam, Denizel & Filiztekin 2007; Hoppe & Wagner 2007): the
BG/NBD's likelihood (:class:`~custfocus.value.fitters.bgnbd.BetaGeometricModel`) with a dropout
chance at the first purchase too."""

from __future__ import annotations

import numpy as np

from custfocus.value.fitters.bgnbd import BetaGeometricModel
from custfocus.value.special import alive_expected_purchases


class MBGNBD(BetaGeometricModel):
    """Modified BG/NBD (Batislam, Denizel & Filiztekin 2007; Hoppe & Wagner 2007): as the
    BG/NBD, but the customer may drop out right after the first purchase too, so customers
    without repeat purchases are not assumed alive."""

    _shift = 1

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer drawn at random at the first purchase:
        ``b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``."""
        r, alpha, a, b = self._theta()
        t = np.asarray(t, dtype=float)
        return b / (a + b) * alive_expected_purchases(r, a, b + 1.0, t / alpha)
