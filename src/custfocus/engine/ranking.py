"""Ranks over every row without a window over every row: aggregation by value bins.

A running sum over customers ranked by value (a whale curve) or tenths of customers by value (CLV
deciles) written as a window ordered over the whole table makes a cluster send every row to one
executor ("No Partition Defined for Window operation"). Here the engine only groups the rows into
narrow value bins, which every engine spreads over its workers: bins of relative width
:data:`PRECISION` on a log scale (``sign(v) * ceil(log(1 + |v|) / log(1 + PRECISION))``), so about
30,000 bins cover values from 0.001 to ten million of either sign. Their counts and sums give the
cumulative count and sum exactly at every bin edge; a rank that falls inside a bin is resolved
exactly from the values of that bin alone (a filtered scan that pulls only the bins needed), or,
beyond :data:`REFINE_LIMIT` such rows, from the bin's mean, off by at most PRECISION of the bin's
values. Both engines compute the same bins, so their results agree to rounding.
"""

from __future__ import annotations

import math

import ibis
import numpy as np

PRECISION = 1e-3
REFINE_LIMIT = 250_000  # values pulled into Python, at most, to place ranks inside bins exactly


class RankedColumn:
    """The non-null values of ``table[column]`` ranked from the largest down (rank 1 = largest).

    ``n`` is their number; :meth:`cumulative` gives the sum of the top k values and :meth:`at`
    that sum and the k-th value, for many k at once (ties do not change either).
    """

    def __init__(self, table: ibis.Table, column: str):
        value = table[column].cast("float64")
        rows = table.filter(value.notnull()).select(value=value)
        step = math.log1p(PRECISION)
        magnitude = ((rows.value.abs() + 1.0).ln() / step).ceil()
        self._rows = rows.mutate(bin=(rows.value.sign() * ibis.greatest(magnitude, 1)).cast("int64"))
        bins = self._rows.group_by("bin").agg(
            count=self._rows.count(), sum=self._rows.value.sum(),
            low=self._rows.value.min(), high=self._rows.value.max(),
        ).to_pandas().sort_values("bin", ascending=False, ignore_index=True)
        bins["count"] = bins["count"].astype("int64")
        self.bins = bins.assign(count_through=bins["count"].cumsum(), sum_through=bins["sum"].cumsum())
        self.n = int(self.bins["count"].sum())

    def cumulative(self, ranks) -> np.ndarray:
        """The sum of the ``k`` largest values for each ``k`` in ``ranks`` (0 <= k <= n)."""
        return self.at(ranks)[0]

    def at(self, ranks) -> tuple[np.ndarray, np.ndarray]:
        """For each ``k`` in ``ranks`` (0 <= k <= n), the sum of the ``k`` largest values and the
        ``k``-th largest value (NaN for k = 0), from one pass over the values that need placing."""
        ranks = np.asarray(ranks, dtype=np.int64)
        if ranks.size and (ranks.min() < 0 or ranks.max() > self.n):
            raise ValueError(f"ranks must be within 0..{self.n}")
        b = self.bins
        if b.empty:
            return np.zeros(ranks.size), np.full(ranks.size, math.nan)
        index = np.minimum(np.searchsorted(b["count_through"].to_numpy(), ranks, side="left"),
                           len(b) - 1)
        inside = ranks - (b["count_through"].to_numpy() - b["count"].to_numpy())[index]  # 1..count
        split = (ranks > 0) & (inside < b["count"].to_numpy()[index]) & (
            b["low"].to_numpy()[index] < b["high"].to_numpy()[index])
        values = self._values_of(sorted(set(b["bin"].to_numpy()[index[split]].tolist())))
        sums = np.zeros(ranks.size)
        kth = np.full(ranks.size, math.nan)
        for i, (k, row, j) in enumerate(zip(ranks, index, inside)):
            if k == 0:
                continue
            before = b["sum_through"].iat[row] - b["sum"].iat[row]
            count, low, high = b["count"].iat[row], b["low"].iat[row], b["high"].iat[row]
            exact = values.get(int(b["bin"].iat[row]))
            if j == count:  # the whole bin
                sums[i], kth[i] = b["sum_through"].iat[row], low
            elif low == high:
                sums[i], kth[i] = before + j * low, low
            elif exact is not None:
                sums[i], kth[i] = before + exact[:j].sum(), exact[j - 1]
            else:  # too many rows to pull: the bin's mean, within PRECISION of the truth
                sums[i] = before + j * b["sum"].iat[row] / count
                kth[i] = high - (high - low) * (j - 1) / (count - 1)
        return sums, kth

    def _values_of(self, bins: list[int]) -> dict[int, np.ndarray]:
        """The values of the given bins, each sorted from the largest down, while they are few."""
        counts = self.bins.set_index("bin")["count"]
        chosen, total = [], 0
        for key in sorted(bins, key=lambda k: counts[k]):
            if total + counts[key] > REFINE_LIMIT:
                break
            chosen.append(key)
            total += int(counts[key])
        if not chosen:
            return {}
        pulled = self._rows.filter(self._rows.bin.isin(chosen)).to_pandas()
        return {int(key): np.sort(group["value"].to_numpy(dtype=float))[::-1]
                for key, group in pulled.groupby("bin")}

