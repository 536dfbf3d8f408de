"""Maximally selected rank statistics: the best split of a continuous variable, and its honest p-value.

For every candidate cut-point μ the patients split into x ≤ μ and x > μ; the standardised sum of
the outcome scores in the lower group, |S − E| / √V (E and V under random permutation of the
scores), measures the separation. The maximum M over all cut-points is the *maximally selected*
statistic (Lausen & Schumacher 1992). Judged against a standard normal, M is far too significant —
it is the best of many tries — so its p-value is taken from the distribution of the maximum:

* `permutation`: the scores permuted at random (or every distinct arrangement, when there are few)
  and the maximum recomputed each time: exact in principle, Monte Carlo error stated;
* `lau94`: the improved Bonferroni bound of Lausen, Sauerbrei & Schumacher (1994);
* `exact_gauss`: the asymptotic joint normal distribution of the statistics (Hothorn & Lausen 2003).

Arithmetic follows R's maxstat 0.7 (`cmaxstat`, `pLausen94`, `pexactgauss`) step for step, and
the log-rank scores are exactRankTests' `cscores.Surv` (tied times take the highest rank); the
tests hold both to stored R output. One difference is deliberate: R's `condMC` counts
permutations whose maximum is strictly *above* the observed one, so a maximum that recurs exactly
(a perfect split of a small data set) gets p ≈ 0; here a permutation counts when it is at least
the observed maximum, and p = (1 + count) / (1 + permutations).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import multivariate_normal, norm, rankdata

PMethod = Literal["permutation", "lau94", "exact_gauss"]
P_METHODS: tuple[str, ...] = ("permutation", "lau94", "exact_gauss")
DEFAULT_PERMUTATIONS = 9999
DEFAULT_SEED = 20240601
EXACT_LIMIT = 100_000          # enumerate every arrangement of the scores up to this many
_RELATIVE_TIE = 1e-9           # a permuted maximum within this of the observed one counts as equal


@dataclass(frozen=True)
class MaxSelection:
    """The standardised statistic at every admissible cut-point and their maximum."""

    n: int
    cuts: tuple[float, ...]        # μ: the largest value of the lower group (R's `cuts`)
    lower_sizes: tuple[int, ...]   # patients with x ≤ μ (R's `m`)
    statistics: tuple[float, ...]  # |S − E| / √V at each cut (R's `stats`)
    statistic: float               # M, the maximum
    best: int                      # index of the first cut reaching M (R's `estimate` is cuts[best])
    expectation: tuple[float, ...]
    variance: tuple[float, ...]
    sorted_scores: tuple[float, ...]   # the scores in the order of x, as the permutation test needs them

    @property
    def estimate(self) -> float:
        return self.cuts[self.best]


@dataclass(frozen=True)
class MaxPValue:
    p_value: float
    method: PMethod
    description: str               # in words, for the page and the export
    permutations: int | None = None    # random permutations drawn (None: not a Monte Carlo p-value)
    arrangements: int | None = None    # distinct arrangements enumerated (exact permutation p-value)
    monte_carlo_error: float | None = None


def logrank_scores(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Log-rank scores a_i = δ_i − Σ_{k: r_k ≤ r_i} δ_k / (N − r_k + 1), r = rank with ties at the highest
    (exactRankTests::cscores.Surv)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    n = len(time)
    ranks = rankdata(time, method="max").astype(int)
    fact = event / (n - ranks + 1)
    cumulative = np.cumsum(fact[np.argsort(time, kind="stable")])
    return event - cumulative[ranks - 1]


def maximally_selected(x: np.ndarray, scores: np.ndarray, *, min_prop: float = 0.1,
                       max_prop: float = 0.9) -> MaxSelection:
    """The statistic at every cut-point whose lower group holds min_prop–max_prop of the patients."""
    x = np.asarray(x, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if len(x) != len(scores):
        raise ValueError(f"{len(x)} values but {len(scores)} scores; give one score per patient")
    if np.isnan(x).any() or np.isnan(scores).any():
        raise ValueError("values and scores must not be missing; drop those patients first")
    n = len(x)
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], scores[order]
    # a cut can fall only where the value changes: m = patients below each new value
    m = np.flatnonzero(np.concatenate(([True], xs[1:] != xs[:-1])))
    if min_prop == 0 and max_prop == 1:
        m = m[1:]
    else:
        m = m[(m >= max(1, math.floor(n * min_prop))) & (m <= math.floor(n * max_prop))]
    if len(m) < 1:
        raise ValueError(f"no cut-point leaves {min_prop:.0%}–{max_prop:.0%} of {n} patients on one side")
    total = ys.sum()
    expectation = m / n * total
    variance = m * (n - m) / (n ** 2 * (n - 1)) * (n * (ys ** 2).sum() - total ** 2)
    if not (variance > 0).all():
        raise ValueError("every patient has the same outcome score, so no split can separate them")
    stats = np.abs((np.cumsum(ys)[m - 1] - expectation) / np.sqrt(variance))
    best = int(np.argmax(stats))
    return MaxSelection(n=n, cuts=tuple(float(v) for v in xs[m - 1]), lower_sizes=tuple(int(v) for v in m),
                        statistics=tuple(float(v) for v in stats), statistic=float(stats[best]), best=best,
                        expectation=tuple(float(v) for v in expectation),
                        variance=tuple(float(v) for v in variance), sorted_scores=tuple(float(v) for v in ys))


# ---------------------------------------------------------------------------------------------- p-values
def p_lausen94(selection: MaxSelection) -> MaxPValue:
    """Lausen, Sauerbrei & Schumacher (1994): 1 − (Φ(b) − Φ(−b)) + Σ φ-terms over neighbouring cuts."""
    b, n = selection.statistic, selection.n
    m = np.asarray(selection.lower_sizes, dtype=float)
    d = 0.0
    if len(m) > 1:
        m1, m2 = m[:-1], m[1:]
        t = np.sqrt(1 - m1 * (n - m2) / ((n - m1) * m2))
        d = float(np.sum(1 / math.pi * math.exp(-b ** 2 / 2) * (t - (b ** 2 / 4 - 1) * t ** 3 / 6)))
    p = 1 - (norm.cdf(b) - norm.cdf(-b)) + d   # a bound: above 1 for a small M, shown as 1
    return MaxPValue(p_value=float(min(1.0, p)), method="lau94",
                     description="improved Bonferroni bound (Lausen, Sauerbrei & Schumacher 1994)")


def cut_correlation(lower_sizes: tuple[int, ...], n: int) -> np.ndarray:
    """Correlation of the standardised statistics at two cuts: √(m_i (n − m_j) / (m_j (n − m_i))), m_i ≤ m_j."""
    m = np.asarray(lower_sizes, dtype=float)
    small, large = np.minimum.outer(m, m), np.maximum.outer(m, m)
    return np.sqrt(small * (n - large) / (large * (n - small)))


def p_exact_gauss(selection: MaxSelection, *, seed: int = DEFAULT_SEED) -> MaxPValue:
    """1 − P(|Z_j| < M for every cut j), Z multivariate normal with the cuts' correlation (Genz's method)."""
    b = selection.statistic
    k = len(selection.lower_sizes)
    description = "asymptotic Gaussian distribution of the maximum (Hothorn & Lausen 2003)"
    if k == 1:
        return MaxPValue(p_value=float(2 * norm.cdf(-b)), method="exact_gauss", description=description)
    corr = cut_correlation(selection.lower_sizes, selection.n)
    inside = multivariate_normal.cdf(np.full(k, b), mean=np.zeros(k), cov=corr, allow_singular=True,
                                     maxpts=10_000 * k, abseps=1e-4, releps=0.0, lower_limit=np.full(k, -b),
                                     rng=np.random.default_rng(seed))
    return MaxPValue(p_value=float(min(1.0, max(0.0, 1 - inside))), method="exact_gauss", description=description)


def p_permutation(selection: MaxSelection, *, permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                  exact_limit: int = EXACT_LIMIT, count_ties: bool = True) -> MaxPValue:
    """P(max statistic ≥ M) when the outcome scores are assigned to the values at random.

    Every distinct arrangement of the scores is enumerated when there are at most `exact_limit`
    (each is equally likely), else `permutations` random ones are drawn with `seed`.
    `count_ties=False` counts only maxima strictly above M, as R's condMC does (for comparison).
    """
    scores = np.asarray(selection.sorted_scores)
    m = np.asarray(selection.lower_sizes)
    expectation, sd = np.asarray(selection.expectation), np.sqrt(np.asarray(selection.variance))
    observed = selection.statistic * (1 - _RELATIVE_TIE if count_ties else 1 + _RELATIVE_TIE)
    arrangements = distinct_arrangements(scores)
    if arrangements <= exact_limit:
        hits = 0
        for batch in _batches(_arrangements(scores), 4096, len(scores)):
            hits += int((_max_statistics(batch, m, expectation, sd) >= observed).sum())
        return MaxPValue(p_value=hits / arrangements, method="permutation", arrangements=arrangements,
                         description=f"permutation test, all {arrangements:,} arrangements of the outcomes")
    rng = np.random.default_rng(seed)
    hits, done = 0, 0
    batch_size = max(1, 2_000_000 // len(scores))
    while done < permutations:
        size = min(batch_size, permutations - done)
        batch = rng.permuted(np.tile(scores, (size, 1)), axis=1)
        hits += int((_max_statistics(batch, m, expectation, sd) >= observed).sum())
        done += size
    p = (1 + hits) / (1 + permutations)
    return MaxPValue(p_value=p, method="permutation", permutations=permutations,
                     monte_carlo_error=math.sqrt(p * (1 - p) / permutations),
                     description=f"permutation test, {permutations:,} random permutations (seed {seed})")


def distinct_arrangements(scores: np.ndarray) -> int:
    """N! / Π c! over the multiplicities c of the distinct scores."""
    count = math.factorial(len(scores))
    for c in Counter(np.asarray(scores).tolist()).values():
        count //= math.factorial(c)
    return count


def _max_statistics(batch: np.ndarray, m: np.ndarray, expectation: np.ndarray, sd: np.ndarray) -> np.ndarray:
    sums = np.cumsum(batch, axis=1)[:, m - 1]
    return np.abs((sums - expectation) / sd).max(axis=1)


def _arrangements(scores: np.ndarray) -> Iterator[tuple[float, ...]]:
    """Each distinct ordering of a multiset once (the scores' multiplicities kept)."""
    counts = Counter(scores.tolist())
    values = sorted(counts)
    current: list[float] = []

    def walk(left: int) -> Iterator[tuple[float, ...]]:
        if left == 0:
            yield tuple(current)
            return
        for v in values:
            if counts[v]:
                counts[v] -= 1
                current.append(v)
                yield from walk(left - 1)
                current.pop()
                counts[v] += 1

    yield from walk(len(scores))


def _batches(items: Iterator[tuple[float, ...]], size: int, width: int) -> Iterator[np.ndarray]:
    buffer: list[tuple[float, ...]] = []
    for item in items:
        buffer.append(item)
        if len(buffer) == size:
            yield np.asarray(buffer, dtype=float).reshape(-1, width)
            buffer = []
    if buffer:
        yield np.asarray(buffer, dtype=float).reshape(-1, width)


def corrected_p_value(selection: MaxSelection, method: PMethod = "permutation", *,
                      permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                      exact_limit: int = EXACT_LIMIT) -> MaxPValue:
    if method == "permutation":
        return p_permutation(selection, permutations=permutations, seed=seed, exact_limit=exact_limit)
    if method == "lau94":
        return p_lausen94(selection)
    if method == "exact_gauss":
        return p_exact_gauss(selection, seed=seed)
    raise ValueError(f"Unknown p-value method {method!r}; choose one of {', '.join(P_METHODS)}")
