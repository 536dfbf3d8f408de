"""What the paper check returns: each published figure next to its recomputed value, and the whole."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.paper.formatting import NOT_AVAILABLE, percent_text
from core.paper.targets import SECTIONS

EXACT = "exact"
UNATTAINABLE_ROUNDING = "unattainable — rounding or typo"
UNATTAINABLE_STRUCTURAL = "unattainable — structural"
METADATA = "metadata"
MISMATCH = "mismatch"

CONFLICTS_SOURCE = "shared/reference/paper-conflicts.md"


@dataclass(frozen=True)
class PaperFigure:
    """One published figure next to its recomputed value."""

    target_id: str
    section: str
    figure: str
    published: str          # as printed in the paper
    computed: str           # the engine's value at the paper's printed precision ("n/a" if none)
    status: str             # exact, unattainable — rounding or typo / structural, metadata, mismatch
    conflict: str           # "C02" etc., or ""
    reason: str             # one line; for conflicts what was honoured instead and why
    where: str              # locations in the paper
    supplementary: str = ""  # e.g. the exact CI of a proportion (not published; shown as derived)

    @property
    def counted(self) -> bool:
        return self.status != METADATA

    @property
    def is_exact(self) -> bool:
        return self.status == EXACT


@dataclass(frozen=True)
class CrudeOsView:
    """Crude (non-KM) counts behind the OS block, for C02: what a 'fraction of 32' reading gives."""

    n: int
    deaths: int
    deaths_by_6: int
    deaths_by_12: int
    followed_to_6: int            # OS time ≥ 6 months (alive and still followed)
    followed_to_12: int           # OS time ≥ 12 months
    lost_by_6: int
    lost_6_to_12: int

    def rows(self) -> list[tuple[str, str]]:
        def frac(k: int) -> str:
            return f"{k}/{self.n} = {percent_text(k, self.n, 1)}%" if self.n else NOT_AVAILABLE
        return [
            ("Alive at the end of follow-up (crude)", frac(self.n - self.deaths)),
            ("Known dead by 6 months", frac(self.deaths_by_6)),
            ("Known dead by 12 months", frac(self.deaths_by_12)),
            ("Alive and followed at 6 months", frac(self.followed_to_6)),
            ("Alive and followed at 12 months (not LTF)", frac(self.followed_to_12)),
            ("Lost to follow-up by 6 months", str(self.lost_by_6)),
            ("Lost to follow-up in (6, 12] months", str(self.lost_6_to_12)),
        ]


@dataclass(frozen=True)
class PaperCheck:
    figures: tuple[PaperFigure, ...]
    definitions: dict[str, str]
    crude_os: CrudeOsView | None
    source: str = CONFLICTS_SOURCE

    @property
    def n_counted(self) -> int:
        return sum(1 for f in self.figures if f.counted)

    @property
    def n_exact(self) -> int:
        return sum(1 for f in self.figures if f.counted and f.is_exact)

    @property
    def misses(self) -> list[PaperFigure]:
        return [f for f in self.figures if f.counted and not f.is_exact]

    def figure(self, target_id: str) -> PaperFigure:
        for f in self.figures:
            if f.target_id == target_id:
                return f
        raise KeyError(f"no published figure {target_id!r}")

    def by_section(self) -> list[tuple[str, list[PaperFigure]]]:
        return [(s, [f for f in self.figures if f.section == s]) for s in SECTIONS
                if any(f.section == s for f in self.figures)]

    def summary(self) -> str:
        return (f"{self.n_exact} of {self.n_counted} published figures reproduced exactly; "
                f"{len(self.misses)} differ: " + ", ".join(f.target_id for f in self.misses))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "ID": f.target_id, "Section": f.section, "Figure": f.figure, "Published": f.published,
            "Computed": f.computed, "Status": f.status, "Conflict": f.conflict, "Reason": f.reason,
            "Where in the paper": f.where, "Supplementary": f.supplementary,
        } for f in self.figures])
