"""Every endpoint's meaning, in one place: population, origin, events, censoring, competing events.

An `Endpoint` is what a result *means*; the engine computes it (core.derivation writes the SQL from
the column names held here, core.survival / core.response / core.safety estimate it) and everything
that shows a definition — page labels, chart titles and captions, export provenance, the deck, the
data dictionary, the README's table — reads the sentence from `Endpoint.definition(options)`.
A test fails when a definition sentence is written anywhere else.

Time-to-event endpoints are derived per patient as a duration in days and an *event kind*:
0 = censored, 1 = the event of interest, 2 = a competing event (death before the event of interest,
for cumulative incidence). Kaplan–Meier reads kind 1 as the event and everything else as censored;
the Aalen–Johansen estimator keeps the kinds apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from core.contract import DAYS_PER_MONTH

EndpointKind = Literal["survival", "cumulative_incidence", "proportion", "derived"]

KM_ESTIMATOR = "Kaplan–Meier product-limit"
AJ_ESTIMATOR = "Aalen–Johansen cumulative incidence"
EXACT_PROPORTION = "Clopper–Pearson exact"
DERIVED = "derived per patient"

CENSORED, EVENT, COMPETING = 0, 1, 2   # the event-kind codes of a time-to-event row


@dataclass(frozen=True)
class EndpointOptions:
    """Definitions a user may change; the defaults are the data contract's."""

    rfs_from_response: bool = False   # RFS origin: first InO dose (default) or first dated CR/CRi
    censor_at_hsct: bool = False      # censor RFS and duration of remission at HSCT
    relapse_from_dose: bool = False   # cumulative incidence of relapse: from first CR/CRi (default) or first dose


Text = str | Callable[[EndpointOptions], str]


def _text(value: Text, options: EndpointOptions) -> str:
    return value(options) if callable(value) else value


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: what is counted, among whom, from when, until what."""

    key: str                              # "rfs"
    title: str                            # "Relapse-free survival"
    short: str                            # "RFS": the name a definition sentence starts with
    kind: EndpointKind
    population: str                       # in words: "responders (CR/CRi)"
    estimator: str
    units: str                            # "months", "patients (%)"
    origin: Text = ""                     # time-to-event: "first InO dose"
    events: Text = ""                     # "first relapse or death"
    censoring: Text = ""                  # "censored at last contact"
    competing: tuple[str, ...] = ()       # ("death without relapse",)
    legend: tuple[str, ...] = ()          # cumulative incidence: names of event kinds 1, 2 on a chart
    rule: Text = ""                       # proportion / derived: what makes a patient count
    # SQL column names over patient_endpoints (core.derivation defines them); never user text
    population_sql: str = "TRUE"
    duration_column: str = ""
    event_column: str = ""                # the event kind (0/1/2) for time-to-event endpoints
    numerator: str = ""                   # proportion: a measure name of core.queries
    denominator: str = ""

    @property
    def time_to_event(self) -> bool:
        return self.kind in ("survival", "cumulative_incidence")

    def origin_text(self, options: EndpointOptions = EndpointOptions()) -> str:
        return _text(self.origin, options)

    def events_text(self, options: EndpointOptions = EndpointOptions()) -> str:
        return _text(self.events, options)

    def censoring_text(self, options: EndpointOptions = EndpointOptions()) -> str:
        return _text(self.censoring, options)

    def rule_text(self, options: EndpointOptions = EndpointOptions()) -> str:
        return _text(self.rule, options)

    def definition(self, options: EndpointOptions = EndpointOptions()) -> str:
        """The one sentence a user reads: "<short> from <origin> to <events>; <censoring>"."""
        if self.time_to_event:
            text = f"{self.short} from {self.origin_text(options)} to {self.events_text(options)}"
            if self.competing:
                text += f", with {' and '.join(self.competing)} competing"
            return f"{text}; {self.censoring_text(options)}"
        return f"{self.short} = {self.rule_text(options)}"

    def subject(self, options: EndpointOptions = EndpointOptions()) -> str:
        """The definition without its censoring rule (provenance keeps the two apart)."""
        return self.definition(options).partition("; ")[0]


def _censored_at(options: EndpointOptions) -> str:
    return "censored at last contact" + (" or at HSCT" if options.censor_at_hsct else "")


def _rfs_origin(options: EndpointOptions) -> str:
    return "the first dated CR/CRi" if options.rfs_from_response else "the first InO dose"


def _relapse_origin(options: EndpointOptions) -> str:
    return "the first InO dose" if options.relapse_from_dose else "the first dated CR/CRi"


_RESPONDERS = "responders (CR/CRi)"
_DATED_RESPONDERS = "responders with a dated CR/CRi"
# the paper's Table 6: by HSCT status, and overall
_TOXICITY_POPULATION = "patients with HSCT; safety-evaluable patients without HSCT; overall: all patients"

ENDPOINTS: dict[str, Endpoint] = {e.key: e for e in (
    # ---------------------------------------------------------------- time to event
    Endpoint("os", "Overall survival", "Overall survival", "survival", "patients",
             KM_ESTIMATOR, "months", origin="the first InO dose", events="death from any cause",
             censoring="censored at last contact", duration_column="os_days", event_column="os_event"),
    Endpoint("rfs", "Relapse-free survival", "RFS", "survival", _RESPONDERS, KM_ESTIMATOR, "months",
             origin=_rfs_origin, events="first relapse or death", censoring=_censored_at,
             population_sql="responder", duration_column="rfs_days", event_column="rfs_event"),
    Endpoint("dor", "Duration of remission", "Duration of remission", "survival", _DATED_RESPONDERS,
             KM_ESTIMATOR, "months", origin="the first dated CR/CRi", events="relapse or death",
             censoring=_censored_at, population_sql="responder AND first_dated_response_date IS NOT NULL",
             duration_column="dor_days", event_column="dor_event"),
    Endpoint("relapse_incidence", "Cumulative incidence of relapse", "Cumulative incidence of relapse",
             "cumulative_incidence", _DATED_RESPONDERS, AJ_ESTIMATOR, "months", origin=_relapse_origin,
             events="first relapse", competing=("death without relapse",), censoring=_censored_at,
             legend=("Relapse", "Non-relapse mortality"),
             population_sql="responder AND first_dated_response_date IS NOT NULL",
             duration_column="relapse_days", event_column="relapse_kind"),
    Endpoint("non_relapse_mortality", "Non-relapse mortality", "Non-relapse mortality", "cumulative_incidence",
             _DATED_RESPONDERS, AJ_ESTIMATOR, "months", origin=_relapse_origin, events="death without relapse",
             competing=("relapse",), censoring=_censored_at, legend=("Non-relapse mortality", "Relapse"),
             population_sql="responder AND first_dated_response_date IS NOT NULL",
             duration_column="relapse_days", event_column="nrm_kind"),
    Endpoint("vod_incidence", "Cumulative incidence of VOD", "Cumulative incidence of VOD", "cumulative_incidence",
             "patients", AJ_ESTIMATOR, "months", origin="the first InO dose",
             events="the first dated VOD", competing=("death without VOD",), censoring="censored at last contact",
             legend=("VOD", "Death without VOD"),
             duration_column="vod_days", event_column="vod_kind"),
    Endpoint("hsct_incidence", "Cumulative incidence of HSCT", "Cumulative incidence of HSCT", "cumulative_incidence",
             "patients", AJ_ESTIMATOR, "months", origin="the first InO dose", events="HSCT",
             competing=("death before HSCT",), censoring="censored at last contact",
             legend=("HSCT", "Death before HSCT"),
             duration_column="hsct_days", event_column="hsct_kind"),
    # ---------------------------------------------------------------- proportions
    Endpoint("cr_cri", "CR/CRi", "CR/CRi", "proportion", "patients", EXACT_PROPORTION,
             "patients (%)", rule="best response complete remission (CR) or CR with incomplete haematologic recovery "
             "(CRi) at any assessment (CR vs CRi from the first); NR if assessed without one; otherwise not "
             "evaluable", numerator="responders", denominator="n"),
    Endpoint("mrd_negativity", "MRD negativity", "MRD negativity", "proportion", _RESPONDERS, EXACT_PROPORTION,
             "patients (%)", rule="any negative MRD result in a responder", numerator="mrd_negative",
             denominator="responders"),
    Endpoint("deep_response", "Deep response", "Deep response", "proportion", _RESPONDERS, EXACT_PROPORTION,
             "patients (%)", rule="MRD negative at the assessment that first documented CR/CRi (same date, or — "
             "undated — same cycle)", numerator="deep_response", denominator="responders"),
    Endpoint("hsct_rate", "HSCT", "HSCT", "proportion", "patients", EXACT_PROPORTION,
             "patients (%)", rule="an HSCT after the first InO dose (any hsct event)", numerator="hsct",
             denominator="n"),
    Endpoint("vod", "VOD", "VOD", "proportion", _TOXICITY_POPULATION, EXACT_PROPORTION,
             "patients (%)", rule="any VOD, any grade; post-HSCT when dated on or after the HSCT",
             numerator="vod", denominator="safety_evaluable"),
    Endpoint("liver_toxicity_g34", "Grade 3/4 liver toxicity", "Grade 3/4 liver toxicity", "proportion",
             _TOXICITY_POPULATION, EXACT_PROPORTION, "patients (%)",
             rule="AST, ALT or bilirubin increased at grade ≥ 3", numerator="liver_toxicity_g34",
             denominator="safety_evaluable"),
    Endpoint("haematologic_toxicity", "Haematologic toxicity", "Haematologic toxicity", "proportion",
             _TOXICITY_POPULATION, EXACT_PROPORTION, "patients (%)",
             rule="thrombocytopenia, neutropenia or febrile neutropenia, any grade",
             numerator="haematologic_toxicity", denominator="safety_evaluable"),
    # ---------------------------------------------------------------- derived per patient
    Endpoint("months", "Months", "Months", "derived", "every patient", DERIVED, "months",
             rule=f"days / {DAYS_PER_MONTH:g} between event dates, counted from the patient's ino_start_date "
             "(OS, RFS) or from the first dated CR/CRi (duration of remission); durations are never stored"),
    Endpoint("cycle1_dose", "Cycle-1 dose", "Cycle-1 dose", "derived", "every patient", DERIVED, "mg/m²",
             rule="the sum of dose_mg_m2 over cycle-1 ino_dose rows; dose group <1.8, 1.8 or >1.8 mg/m²/cycle "
             "(1.8 within ±0.005)"),
    Endpoint("n_cycles", "Number of InO cycles", "Number of InO cycles", "derived", "every patient", DERIVED,
             "cycles", rule="the highest cycle among ino_dose rows"),
    Endpoint("blast_burden", "Blast burden", "Blast burden", "derived", "every patient", DERIVED, "% blasts",
             rule="bone-marrow blasts at baseline < or ≥ a threshold (50% unless the user moves it)"),
    Endpoint("best_response", "Best response", "Best response", "derived", "every patient", DERIVED, "category",
             rule="CR/CRi if any response row says CR or CRi (CR vs CRi from the first such row), else NR if any "
             "response row exists, else not evaluable"),
    Endpoint("cycles_to_response", "Cycles to response", "Cycles to response", "derived", _RESPONDERS, DERIVED,
             "cycles", rule="the cycle of the first CR/CRi response row"),
    Endpoint("lost_to_follow_up", "Lost to follow-up", "Lost to follow-up", "derived", "every patient", DERIVED,
             "patients", rule="censored with followup_status = lost to follow-up"),
)}

# How the estimators are computed: one sentence each, for the dictionary, exports and the README.
METHODS: dict[str, str] = {
    KM_ESTIMATOR: "Greenwood variance with lifelines' default exponential Greenwood (log(−log)) pointwise 95% CI, "
                  "computed from per-time counts; the median's CI is where that band crosses 0.5",
    AJ_ESTIMATOR: "from per-time counts of each event kind; variance and pointwise 95% CI as R's cmprsk::cuminc",
    EXACT_PROPORTION: "exact binomial 95% CI",
}


def endpoint(key: str) -> Endpoint:
    """The endpoint called `key`; a ValueError naming the choices otherwise."""
    try:
        return ENDPOINTS[key]
    except KeyError:
        raise ValueError(f"Unknown endpoint {key!r}; choose one of {', '.join(ENDPOINTS)}") from None


def endpoints_of(kind: EndpointKind) -> tuple[Endpoint, ...]:
    return tuple(e for e in ENDPOINTS.values() if e.kind == kind)


def definitions_table(options: EndpointOptions = EndpointOptions()) -> list[dict[str, str]]:
    """One row per endpoint and method: what the data dictionary and the README show."""
    rows = [{"endpoint": e.title, "population": e.population, "definition": e.definition(options),
             "estimator": e.estimator} for e in ENDPOINTS.values()]
    rows += [{"endpoint": name, "population": "", "definition": text, "estimator": ""}
             for name, text in METHODS.items()]
    return rows


def definitions_markdown(options: EndpointOptions = EndpointOptions()) -> str:
    """The definitions table as Markdown (the README carries it between two marker comments)."""
    lines = ["| endpoint | population | definition | estimator |", "|---|---|---|---|"]
    for row in definitions_table(options):
        cells = (row[k].replace("|", "\\|") for k in ("endpoint", "population", "definition", "estimator"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
