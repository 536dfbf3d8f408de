"""The definitions in force behind the paper check's figures, stated next to the numbers (paper-conflicts.md)."""

from __future__ import annotations

from core.contract import DAYS_PER_MONTH
from core.database import Cohort
from core.endpoints import EndpointOptions, endpoint
from core.filters import FilterSpec
from core.paper.values import int_or_none, one_row
from core.survival import CI_METHOD


def definitions_in_force(cohort: Cohort, spec: FilterSpec) -> dict[str, str]:
    """Name → the sentence that says how the figures under it are defined on this cohort."""
    options = EndpointOptions()
    row = one_row(cohort, spec, ("responders", "responders_dated", "hsct", "safety_evaluable", "n"))
    responders, dated = int_or_none(row.get("responders")) or 0, int_or_none(row.get("responders_dated")) or 0
    return {
        "RFS origin": f"{endpoint('rfs').definition(options)}. The origin is C1D1 (first InO dose), not the CR date: the only "
                      "reading compatible with RFS 7.0 > DOR 6 (C08).",
        "DOR population": f"{endpoint('dor').definition(options)}. Responders with a dated first CR/CRi ({dated} of "
                          f"{responders}); responders whose CR/CRi date was not recorded are excluded.",
        "Deep response": "MRD-negative at the assessment that first documented CR/CRi (same date, or same cycle "
                         "when undated); 'median of two cycles' = median cycle of those assessments (C04).",
        "Table 6 denominators": "HSCT = patients with an HSCT row; no HSCT = safety-evaluable patients without one "
                                "(the patient without post-baseline safety data is excluded from Table 6 only, "
                                "C10). Table 8 and the abstract use every patient.",
        "KM CI method": f"lifelines KaplanMeierFitter defaults: {CI_METHOD}. The paper's method is unstated and "
                        "probably SPSS Wald (median ± 1.96·SE); R survfit's default conf.type='log' gives other "
                        "endpoints (C03).",
        "Month length": f"months = days / {DAYS_PER_MONTH} (365.25 / 12), from event dates; landmark rates are "
                        "S(t) at t = 6.0 and 12.0 months.",
        "Number at risk": "patients whose OS time is ≥ t.",
        "Lost to follow-up": "censored patients whose last contact says 'lost to follow-up'.",
        "Percentages": "100·k/n rounded half-up to the decimals the paper prints (56.25 → 56.3); Clopper–Pearson "
                       "95% CIs are supplementary, never published.",
    }
