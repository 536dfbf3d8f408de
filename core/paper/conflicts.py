"""What paper-conflicts.md says about each figure a documented conflict touches.

Which conflict applies to a figure is recorded once, in targets.csv; this module adds the
explanation. A conflict either is resolved — the figure is expected to match, and the note says
how — or makes the figure unattainable, in which case the note names the value the reference
reconstruction honours instead. The kind of miss follows from the conflict: C02 is structural,
C05, C06, C07 and C09 are rounding or typos.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.paper.figures import UNATTAINABLE_ROUNDING, UNATTAINABLE_STRUCTURAL
from core.paper.targets import TARGETS, PaperTarget

# paper-conflicts.md, "What a dashboard paper check page should do"
MISS_STATUS_BY_CONFLICT: dict[str, str] = {
    "C02": UNATTAINABLE_STRUCTURAL,
    "C05": UNATTAINABLE_ROUNDING, "C06": UNATTAINABLE_ROUNDING, "C07": UNATTAINABLE_ROUNDING,
    "C09": UNATTAINABLE_ROUNDING,
}


@dataclass(frozen=True)
class DocumentedConflict:
    """What paper-conflicts.md says about one target.

    `miss_status` is the status a miss gets (None: the conflict is resolved and the figure is
    expected to match); `reconstructed` is the value the reference reconstruction gives for a
    figure that cannot match.
    """

    code: str
    reason: str
    miss_status: str | None = None
    reconstructed: str | None = None


@dataclass(frozen=True)
class _Note:
    reason: str
    reconstructed: str | None = None     # set only for a figure the conflict makes unattainable


_C01 = ("11 transplanted = 9 InO responders + 2 non-responders transplanted after other salvage, "
        "so 11/32 and 9/19 both hold")
_C02_KM = ("KM estimate (lifelines) honoured; the printed value also equals a crude fraction of 32 "
           "(15/32, 9/32) — see E08")
_C03 = ("lifelines CI-band inversion reproduces the endpoints; the paper's CI method is unstated "
        "(probably SPSS Wald, median ± 1.96·SE)")
_C04 = ("deep response = MRD-negative at the assessment that first documented CR/CRi; others converted "
        "later, so 18/19 MRD-negative and 13/19 deep both hold")
_C08 = "RFS from the first InO dose (C1D1), not from CR: the only reading compatible with RFS 7.0 > DOR 6"
_C10 = ("Table 6 holds 11 + 20 = 31 patients: the patient lost before the first assessment has no "
        "safety data and is excluded from Table 6 only")
_C11 = ("'median age 37.41 ± 15.16': decimal ages give median = mean = 37.41 and SD 15.16, "
        "so both readings hold")

_NOTES: dict[str, _Note] = {
    # unattainable — structural (C02)
    "E08": _Note(
        "honoured the KM OS rates, median 6.0 (4.5–7.5) and 17 deaths instead; 9/32 = 28.1% exactly, so "
        "the published 12-month rate is almost certainly a crude proportion, and a KM estimate of 28.1% with "
        "17 deaths allows at most 6 at risk", "4"),
    "E16": _Note(
        "honoured S(6) = 46.9%, 17 deaths, the RFS CI lower limit 6.1 and Table 8's relapse deaths "
        "(responders), which together force at least 6 patients lost to follow-up by 6 months", "6"),
    # unattainable — rounding or typo (C05, C06, C07, C09)
    "A22": _Note("typo: no n/32 rounds to 56.4; the count 18 is honoured (Table 1 prints 18 (56.3))", "56.3"),
    "F31": _Note("no count of 32 gives 84.8; the count 27 is honoured (27/32 = 84.375 → 84.4)", "84.4"),
    "F35": _Note("43.7 needs truncation, yet Table 8 rounds 6/32 = 18.75 to 18.8; the count 14 is honoured "
                 "(14/32 = 43.75 → 43.8)", "43.8"),
    "F27": _Note("no count of 18 gives 16.8; the count 3 is honoured (3/18 = 16.67 → 16.7)", "16.7"),
    "F03": _Note("7/32 = 21.875 truncated to 21.87; half-up gives 21.88 (§4.3.7 prints 22 correctly); "
                 "the count 7 is honoured", "21.88"),
    "G15": _Note("no k/17 gives 60.8; shown is progression + relapse = 10/17 (Table 8: 23.5 + 35.3)", "58.8"),
    "M10": _Note("rounding: 18/19 = 94.74 prints as 94.7 in the abstract and §4.3.1; the count 18 is honoured",
                 "94.7"),
    "M11": _Note("rounding: 1/19 = 5.26 → 5.3; the count 1 is honoured", "5.3"),
    "E18": _Note("Table 9 prints '—' while §4.3.4 and Figure 2 report a median OS of 6.0 months; 6.0 is honoured",
                 "6.0"),
    # resolved conflicts: expected to match, with the note that explains how
    "D01": _Note(_C01), "D02": _Note(_C01), "D03": _Note(_C01), "D04": _Note(_C01),
    "E03": _Note(_C02_KM), "E04": _Note(_C02_KM),
    "E05": _Note("KM median honoured: a death on day 182 (5.98 months) prints as 6.0"),
    "E17": _Note("LTF in (6, 12] months honoured; LTF by 6 months cannot be (E16)"),
    "E06": _Note(_C03), "E07": _Note(_C03),
    "M12": _Note(_C04), "M13": _Note(_C04), "M14": _Note(_C04),
    "E11": _Note(_C08), "E12": _Note(_C08), "E13": _Note(_C08),
    "F10": _Note(_C10), "F11": _Note(_C10),
    "A07": _Note(_C11), "A08": _Note(_C11), "A09": _Note(_C11),
    "A51": _Note("study-level metadata (study_meta.screened_identified): the 18 screened-out "
                 "cases are not in a 32-patient dataset; not counted"),
}


def documented_conflicts(targets: tuple[PaperTarget, ...], notes: dict[str, _Note]) -> dict[str, DocumentedConflict]:
    """target id → its documented conflict, joining targets.csv's conflict ids with the notes above."""
    with_conflict = {t.target_id: t.conflict for t in targets if t.conflict}
    if set(with_conflict) != set(notes):
        raise ValueError("targets.csv's conflict column and the conflict notes disagree: "
                         f"conflict without a note {sorted(set(with_conflict) - set(notes))}, "
                         f"note without a conflict {sorted(set(notes) - set(with_conflict))}. "
                         "Give every target with a conflict id one note, and no other target.")
    conflicts: dict[str, DocumentedConflict] = {}
    for target_id, code in with_conflict.items():
        note = notes[target_id]
        miss_status = None
        if note.reconstructed is not None:
            if code not in MISS_STATUS_BY_CONFLICT:
                raise ValueError(f"{target_id}: conflict {code} is resolved in paper-conflicts.md, so the figure "
                                 f"cannot be unattainable (reconstructed value {note.reconstructed!r}).")
            miss_status = MISS_STATUS_BY_CONFLICT[code]
        conflicts[target_id] = DocumentedConflict(code, note.reason, miss_status, note.reconstructed)
    return conflicts


CONFLICTS: dict[str, DocumentedConflict] = documented_conflicts(TARGETS, _NOTES)
