"""What investigators call the contract's columns and values: the words a proposed mapping looks for.

Headers are compared by `header_key` (lower case, punctuation as spaces: "Patient ID", "patient_id"
and "PATIENT-ID" are one key); values by `value_key` (lower case, without spaces, dots or
underscores, so "Ph +ve", "ph+ve" and "PH+VE" are one key, while "Ph+" and "Ph-" stay apart).
Each list names synonyms only; the contract's own spelling is always recognised as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from core.contract import AE_TERMS, DEATH_CAUSES, EVENT_TYPES, OTHER_EVENT_TYPES

_HEADER_PUNCTUATION = re.compile(r"[^\w+%]+|_")
_VALUE_SPACING = re.compile(r"[\s_.]+")


def header_key(text: str) -> str:
    """A header as matching sees it: "Date of first InO (C1D1)" → "date of first ino c1d1"."""
    lowered = str(text).casefold().replace("²", "2").replace("⁹", "9")
    return " ".join(_HEADER_PUNCTUATION.sub(" ", lowered).split())


def value_key(text: str) -> str:
    """A cell value as matching sees it: "Ph +ve" → "ph+ve", "Complete  remission" → "completeremission"."""
    return _VALUE_SPACING.sub("", str(text).casefold())


# ---------------------------------------------------------------------------------- column names
_ID = ("patient id", "pt id", "patient", "patient no", "patient number", "subject", "subject id", "subjid",
       "usubjid", "study id", "record id", "case id", "case no", "id")

COLUMN_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "patients": {
        "patient_id": _ID,
        "centre": ("center", "site", "site id", "site name", "hospital", "institution", "centre name",
                   "center name", "treating centre", "treating center"),
        "sex": ("gender", "sex m f", "gender m f", "sex at birth"),
        "age_years": ("age", "age yrs", "age y", "age at ino", "age at first ino", "age at first dose",
                      "age at start", "age at inclusion", "age in years"),
        "ph_status": ("ph", "ph status", "philadelphia", "philadelphia chromosome", "philadelphia status",
                      "ph chromosome", "bcr abl", "bcr abl1", "bcr abl status", "bcr abl1 status"),
        "prior_tki_count": ("prior tkis", "prior tki", "number of prior tkis", "no of prior tkis", "tkis failed",
                            "no of tkis", "number of tkis", "tki lines"),
        "cd22_pct": ("cd22", "cd22 %", "cd22 percent", "cd22 positivity", "cd22 expression", "% cd22",
                     "cd22 positive blasts", "cd22 positive %"),
        "disease_status": ("status", "disease state", "relapsed refractory", "r r status", "relapsed or refractory",
                           "relapse refractory", "status before ino"),
        "salvage_line": ("salvage", "line", "line of therapy", "line of salvage", "salvage number", "ino line",
                         "salvage status", "salvage setting", "treatment line"),
        "blast_pct": ("blasts", "blast %", "bm blasts", "bm blast %", "marrow blasts", "baseline blasts",
                      "baseline bm blasts", "blast percentage", "bone marrow blasts", "bone marrow blast %"),
        "emd_baseline": ("emd", "extramedullary disease", "extramedullary", "emd at baseline", "baseline emd"),
        "ino_start_date": ("date of first ino", "first ino date", "date of first ino dose", "first ino dose",
                           "ino start", "c1d1", "c1 d1", "cycle 1 day 1", "date of first dose", "first dose date",
                           "start date", "treatment start", "treatment start date", "ino date",
                           "date of ino start", "ino start date"),
        "data_cutoff_date": ("data cutoff", "data cut off", "cutoff", "cut off", "cutoff date", "cut off date",
                             "data cut off date", "date of data cutoff", "date of data cut off", "dco"),
        "safety_evaluable": ("safety evaluable", "evaluable for safety", "safety population", "safety"),
    },
    "events": {
        "patient_id": _ID,
        "event_date": ("date", "date of event", "visit date", "assessment date", "onset date", "event dt"),
        "event_type": ("event", "type", "what", "category", "event category", "event name"),
        "cycle": ("cycle no", "cycle number", "ino cycle", "course", "cycle of ino"),
        "cycle_day": ("day", "day of cycle", "dose day", "cycle day no"),
        "dose_mg_m2": ("dose", "dose mg m2", "ino dose", "dose given", "dose given mg m2", "ino dose mg m2",
                       "dose mg per m2", "dose in mg m2"),
        "response": ("best response", "response assessment", "remission status", "remission", "outcome",
                     "response status"),
        "marrow_blast_pct": ("bm blasts", "marrow blasts", "blasts", "blast %", "bone marrow blasts",
                             "bm blast %"),
        "platelets_10e9_l": ("platelets", "plt", "platelet count", "platelets 10 9 l", "platelets x10 9 l",
                             "platelets x 10 9 l"),
        "anc_10e9_l": ("anc", "neutrophils", "absolute neutrophil count", "anc 10 9 l", "anc x10 9 l",
                       "anc x 10 9 l"),
        "emd_present": ("emd", "extramedullary disease", "emd at assessment"),
        "mrd": ("mrd status", "mrd result", "minimal residual disease", "measurable residual disease", "fcm mrd",
                "mrd by fcm"),
        "ae_term": ("ae", "adverse event", "toxicity", "ctcae term", "event term", "aeterm", "ae name"),
        "ae_grade": ("grade", "ctcae grade", "toxicity grade", "aetoxgr", "ae ctcae grade"),
        "cause": ("cause of death", "death cause", "reason of death", "reason for death"),
        "followup_status": ("status", "follow up status", "status at last contact", "vital status",
                            "status at last follow up"),
        "relapse_site": ("site", "site of relapse", "relapse location"),
        "detail": ("details", "notes", "note", "comment", "comments", "remarks", "description"),
    },
}

# ---------------------------------------------------------------------------------- values
BOOLEAN_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("yes", "y", "true", "t", "1", "present", "positive", "pos", "+", "evaluable"), "true"),
    **dict.fromkeys(("no", "n", "false", "f", "0", "absent", "negative", "neg", "-", "notevaluable",
                     "nonevaluable"), "false"),
}

_POSITIVE = ("ph+ve", "phpositive", "phpos", "ph+ive", "positive", "pos", "bcr-ablpositive", "bcr-abl1positive",
             "bcr-abl+", "philadelphiapositive", "yes", "+")
_NEGATIVE = ("ph-ve", "phnegative", "phneg", "ph-ive", "negative", "neg", "bcr-ablnegative", "bcr-abl1negative",
             "bcr-abl-", "philadelphianegative", "no", "-")

VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "sex": {**dict.fromkeys(("male", "m", "man"), "M"), **dict.fromkeys(("female", "f", "woman"), "F")},
    "ph_status": {**dict.fromkeys(_POSITIVE, "Ph+"), **dict.fromkeys(_NEGATIVE, "Ph-")},
    "disease_status": {**dict.fromkeys(("relapse", "relapsed", "r", "relapseddisease"), "relapsed"),
                       **dict.fromkeys(("refractory", "ref", "primaryrefractory", "refractorydisease"),
                                       "refractory")},
    "response": {
        **dict.fromkeys(("completeremission", "completeresponse", "cr", "remission"), "CR"),
        **dict.fromkeys(("cri", "crwithincompletecountrecovery", "crwithincompletehaematologicrecovery",
                         "crwithincompletehematologicrecovery", "completeremissionwithincompletecountrecovery",
                         "completeremissionwithincompletehaematologicrecovery",
                         "completeremissionwithincompletehematologicrecovery",
                         "completeremissionwithincompleterecovery"), "CRi"),
        **dict.fromkeys(("noresponse", "nr", "noremission", "notinremission", "resistantdisease",
                         "refractory", "failure", "treatmentfailure"), "NR"),
    },
    "mrd": {**dict.fromkeys(("negative", "neg", "mrdnegative", "mrd-", "mrd-ve", "undetectable", "notdetected",
                             "-"), "negative"),
            **dict.fromkeys(("positive", "pos", "mrdpositive", "mrd+", "mrd+ve", "detectable", "detected", "+"),
                            "positive")},
    "followup_status": {
        **dict.fromkeys(("alive", "aliveatcutoff", "aliveatcut-off", "aliveatdatacutoff", "aliveatlastfollow-up",
                         "aliveatlastfollowup", "aliveatlastcontact", "censored"), "alive at cut-off"),
        **dict.fromkeys(("lost", "losttofollowup", "losttofollow-up", "lost-to-follow-up", "ltfu", "losttofu",
                         "lfu"), "lost to follow-up"),
    },
    "event_type": {
        **dict.fromkeys(("inodose", "ino", "inotuzumab", "inotuzumabdose", "inotuzumabozogamicin", "dose",
                         "inoadministration", "inoinfusion", "ino-dose"), "ino_dose"),
        **dict.fromkeys(("responseassessment", "bonemarrowassessment", "marrowassessment", "bmassessment",
                         "remissionassessment"), "response"),
        **dict.fromkeys(("mrdassessment", "mrdtest", "mrdresult"), "mrd"),
        **dict.fromkeys(("sct", "allo-sct", "allosct", "allo-hsct", "allohsct", "allogeneichsct",
                         "transplant", "stemcelltransplant", "bmt"), "hsct"),
        **dict.fromkeys(("diseaserelapse",), "relapse"),
        **dict.fromkeys(("adverseevent", "ae", "toxicity", "sae"), "adverse_event"),
        **dict.fromkeys(("died", "deceased", "dead"), "death"),
        **dict.fromkeys(("lastcontact", "lastfollow-up", "lastfollowup", "lastvisit", "lastfu", "censor",
                         "lastseen"), "last_contact"),
        **dict.fromkeys(("subsequenttherapy", "nexttherapy", "furthertherapy", "subsequenttreatment"),
                        "subsequent_therapy"),
    },
    "ae_term": {
        **dict.fromkeys(("veno-occlusivedisease", "venoocclusivedisease", "sinusoidalobstructionsyndrome", "sos",
                         "vod/sos", "sos/vod", "hepaticvod"), "VOD"),
        **dict.fromkeys(("thrombocytopaenia", "lowplatelets", "plateletcountdecreased"), "thrombocytopenia"),
        **dict.fromkeys(("neutropaenia", "neutrophilcountdecreased"), "neutropenia"),
        **dict.fromkeys(("febrileneutropaenia", "fn"), "febrile neutropenia"),
        **dict.fromkeys(("aspartateaminotransferaseincreased", "raisedast", "sgotincreased", "astraised"),
                        "AST increased"),
        **dict.fromkeys(("alanineaminotransferaseincreased", "raisedalt", "sgptincreased", "altraised"),
                        "ALT increased"),
        **dict.fromkeys(("bloodbilirubinincreased", "hyperbilirubinaemia", "hyperbilirubinemia",
                         "raisedbilirubin"), "bilirubin increased"),
    },
    "cause": {
        **dict.fromkeys(("diseaseprogression", "progressivedisease", "progression", "pd"), "progression of disease"),
        **dict.fromkeys(("sepsis",), "septic shock"),
        **dict.fromkeys(("diseaserelapse",), "relapse"),
        **dict.fromkeys(("unknown", "notknown", "notreported", "nm", "notstated"), "not mentioned"),
        **dict.fromkeys(("vod", "vod-relatedmof", "vodrelatedmof", "vodrelatedmulti-organfailure",
                         "vodrelatedmultiorganfailure"), "VOD-related multi-organ failure"),
    },
    "relapse_site": {
        **dict.fromkeys(("bonemarrow", "bm", "medullary"), "marrow"),
        **dict.fromkeys(("centralnervoussystem", "cns"), "CNS"),
        **dict.fromkeys(("emd", "extra-medullary"), "extramedullary"),
        **dict.fromkeys(("bm+cns", "marrow+cns", "bonemarrow+cns", "bmandcns", "marrowandcns"), "marrow+CNS"),
    },
}

# The contract's own spelling, matched whatever the case ("cri" → CRi, "vod" → VOD, "Death" → death).
CANONICAL_VALUES: dict[str, tuple[str, ...]] = {
    "event_type": EVENT_TYPES + OTHER_EVENT_TYPES,
    "ae_term": AE_TERMS,
    "cause": DEATH_CAUSES,
    "relapse_site": ("marrow", "CNS", "extramedullary", "marrow+CNS"),
}

_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9, "tenth": 10}
# "1st salvage", "S1", "Salvage 2", "C2", "cycle 3", "D8", "day 15", "Grade 3", "G4", "line 2"
_ORDINAL = re.compile(r"^(?:[a-z]+\s*)?(\d{1,3})(?:st|nd|rd|th)?(?:\s*[a-z]+)?$")


def whole_number_text(text: str) -> str | None:
    """A coded whole number as digits: "1st salvage" → "1", "S1" → "1", "second" → "2", "C2D8" → None."""
    lowered = " ".join(str(text).casefold().split())
    words = lowered.split()
    for word in words:
        if word in _ORDINAL_WORDS and len(words) <= 2:
            return str(_ORDINAL_WORDS[word])
    match = _ORDINAL.match(lowered)
    return str(int(match.group(1))) if match else None


def value_table(column: str, allowed: Iterable[str] = ()) -> Mapping[str, str]:
    """value_key → the contract's value, for one contract column (empty when it has no vocabulary)."""
    table = {value_key(v): v for v in (*allowed, *CANONICAL_VALUES.get(column, ()))}
    table.update(VALUE_SYNONYMS.get(column, {}))
    return table
