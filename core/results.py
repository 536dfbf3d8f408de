"""Result types shared by the endpoint modules: small frozen records that state their method."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from scipy.special import betaincinv

CLOPPER_PEARSON = "Clopper–Pearson exact"


@dataclass(frozen=True)
class TooFewPatients:
    """Returned instead of an estimate when a slice cannot support it."""

    what: str          # e.g. "CR/CRi rate", "Kaplan–Meier estimate of overall survival"
    n: int             # patients available
    needed: int        # patients the estimate needs

    @property
    def reason(self) -> str:
        if self.n == 0:
            return f"{self.what}: no patients in this slice."
        return f"{self.what}: {self.n} patient{'s' if self.n != 1 else ''} in this slice; at least {self.needed} needed."


@dataclass(frozen=True)
class ProportionEstimate:
    """k of n with an exact confidence interval."""

    label: str
    count: int
    denominator: int
    estimate: float
    lower: float
    upper: float
    population: str = "patients"          # who the denominator counts, e.g. "responders"
    conf_level: float = 0.95
    method: str = CLOPPER_PEARSON

    def percent(self, decimals: int = 1) -> str:
        return format_percent(100 * self.estimate, decimals)

    def format(self, decimals: int = 1) -> str:
        """"11/18 · 61.1% (95% CI 35.7–82.7)"."""
        ci = f"{format_percent(100 * self.lower, decimals)}–{format_percent(100 * self.upper, decimals)}"
        return (f"{self.count}/{self.denominator} · {self.percent(decimals)}% "
                f"({round(self.conf_level * 100):d}% CI {ci})")


def proportion(label: str, count: int, denominator: int, *, population: str = "patients",
               conf_level: float = 0.95) -> ProportionEstimate | TooFewPatients:
    """k/n with a Clopper–Pearson (exact binomial) interval."""
    count, denominator = int(count), int(denominator)
    if denominator <= 0:
        return TooFewPatients(what=label, n=0, needed=1)
    if not 0 <= count <= denominator:
        raise ValueError(f"{label}: count {count} is not between 0 and the denominator {denominator}")
    lower, upper = clopper_pearson(count, denominator, conf_level)
    return ProportionEstimate(label=label, count=count, denominator=denominator,
                              estimate=count / denominator, lower=lower, upper=upper,
                              population=population, conf_level=conf_level)


@lru_cache(maxsize=4096)
def clopper_pearson(count: int, denominator: int, conf_level: float = 0.95) -> tuple[float, float]:
    """The exact interval as beta quantiles: lower = B⁻¹(α/2; k, n − k + 1), upper = B⁻¹(1 − α/2; k + 1, n − k).

    The same interval scipy's binomtest(...).proportion_ci(method="exact") finds by root-finding
    on the binomial CDF (tests hold them equal to 1e-9), at a thousandth of the cost.
    """
    alpha = 1 - conf_level
    lower = 0.0 if count == 0 else float(betaincinv(count, denominator - count + 1, alpha / 2))
    upper = 1.0 if count == denominator else float(betaincinv(count + 1, denominator - count, 1 - alpha / 2))
    return lower, upper


def round_half_up(value: float, decimals: int) -> Decimal:
    """Round the way the paper prints (56.25 → 56.3), not banker's rounding.

    The value goes through its shortest repr first so that 9.375 stays 9.375, not 9.37499….
    """
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)


def format_percent(value: float, decimals: int = 1) -> str:
    return str(round_half_up(value, decimals))
