"""Search tool that regenerates ``cohort_facts.csv`` — the reconstructed default cohort.

Run from the repository root::

    python -m data.reconstruction.solve

The rows are a *reconstruction*: 32 synthetic patient records whose computed endpoints
reproduce the aggregate figures of the published InO real-world study (see
/work/shared/reference/paper-targets.md and paper-conflicts.md).  They are not real patients.

The problem is solved as a constraint problem, in this order (every step is deterministic:
exhaustive enumeration in a fixed order, first/best hit wins, no randomness):

1. Role counts (fixed by arithmetic on the published counts, paper-conflicts C01/C02/C04/C10):
   19 responders (18 CR + 1 CRi), 12 non-responders (NR), 1 not evaluable (NE, lost before the
   first marrow).  Deaths 17 = 10 NR (PD 4, septic 2, not mentioned 2, post-HSCT VOD 2) +
   7 responders (relapse 6, CNS relapse 1) who all relapsed first.
   OS: 14 deaths + 6 censorings up to 6 months, 12 at risk at 6 months, then 3 responder deaths,
   5 lost to follow-up in (6, 12] months and 4 alive beyond 12 months.
2. OS day skeleton: all C(20,6) orderings of the 20 pre-6-month OS times x all C(8,3) orderings of
   the 8 times between 6 and 7.5 months are enumerated with an exact numpy mirror of lifelines'
   KaplanMeierFitter; orderings that give S(6)=46.9, S(12)=28.1, median 6.0 (death on day 182),
   CI 4.5-7.5 are ranked by their distance from the rounding boundaries.
3. RFS day skeleton (19 responders, origin C1D1): relapse days of the dying responders and of
   some survivors are enumerated on fixed day grids until median 7.0 (6.1-8.9) holds.
4. DOR (17 responders with a dated CR/CRi): the placement of the mid-follow-up responder
   profiles and the two responders with an undated CR/CRi are enumerated until the median
   prints as 6.
5. Cycles, MRD, subgroups (salvage line, blasts, EMD, sex, ...), AEs, ages and calendar dates are
   assigned from declared plans that satisfy the published counts (checked by ``audit``).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from core.survival import product_limit

HERE = Path(__file__).resolve().parent
FACTS_CSV = HERE / "cohort_facts.csv"

MONTH = 30.4375  # days per month (365.25 / 12)
Z = norm.ppf(0.975)  # lifelines: inv_normal_cdf(1 - alpha/2) with alpha = 0.05

# ----------------------------------------------------------------------------------------------
# 0. exact numpy mirror of lifelines.KaplanMeierFitter (defaults)
# ----------------------------------------------------------------------------------------------


def km(times, events):
    """lifelines-equal KM fit (core.survival.product_limit): (timeline, S, lower, upper) as arrays.

    Same operations in the same order as lifelines 0.30 (``_additive_estimate`` with log-ratios,
    Greenwood sum, exponential-Greenwood band, NaN -> 1.0), so the results are bit-identical.
    """
    t = np.asarray(times, dtype=float)
    curve = product_limit(t, np.asarray(events, dtype=bool), np.ones_like(t))
    return curve.timeline, curve.survival, curve.lower, curve.upper


def km_at(tl, s, x):
    """S(x) as survival_function_at_times (step function, right-continuous)."""
    return s[np.searchsorted(tl, x, side="right") - 1]


def km_median(tl, s):
    """First timeline point where the curve is <= 0.5 (lifelines qth_survival_time)."""
    idx = np.nonzero(s <= 0.5)[0]
    return float(tl[idx[0]]) if len(idx) else math.inf


def km_summary(days, events):
    tl, s, lo, up = km(np.asarray(days, float) / MONTH, events)
    return {
        "S6": km_at(tl, s, 6.0), "S12": km_at(tl, s, 12.0),
        "median": km_median(tl, s), "lower": km_median(tl, lo), "upper": km_median(tl, up),
    }


def verify_mirror(n_cases: int = 60, seed: int = 7) -> None:
    """Check the numpy mirror against lifelines itself (bit-for-bit)."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n = int(rng.integers(5, 35))
        t = rng.integers(1, 400, n) / MONTH
        e = rng.integers(0, 2, n)
        f = KaplanMeierFitter().fit(t, e)
        tl, s, lo, up = km(t, e)
        assert np.array_equal(f.timeline, tl)
        assert np.array_equal(f.survival_function_.values[:, 0], s)
        assert np.array_equal(f.confidence_interval_.values, np.c_[lo, up])
        ci = median_survival_times(f.confidence_interval_)
        assert f.median_survival_time_ == km_median(tl, s)
        assert ci.iloc[0, 0] == km_median(tl, lo) and ci.iloc[0, 1] == km_median(tl, up)
        for x in (3.0, 6.0, 12.0):
            assert f.survival_function_at_times(x).iloc[0] == km_at(tl, s, x)


def in_window(x, lo, hi):
    return lo <= x < hi


def month_window(value, decimals):
    """[lo, hi) of months that print as ``value`` at ``decimals`` (half-up)."""
    h = 0.5 * 10 ** (-decimals)
    return value - h, value + h


# ----------------------------------------------------------------------------------------------
# 1. OS skeleton
# ----------------------------------------------------------------------------------------------

# Day slots for the 20 pre-6-month OS times (positions in time order) and for the 8 times in
# (6, 7.5] months.  Slot 13 (the 8th death in every feasible ordering) sits on day 137 (4.50 mo),
# slot 19 (the median-defining death) on day 182 (5.98 mo); the last post slot is day 228 (7.49).
PRE_SLOTS = [12, 28, 35, 40, 52, 62, 75, 88, 98, 108, 118, 127, 132, 137, 145, 153, 161, 168, 176, 182]
POST_SLOTS = [183, 198, 215, 219, 220, 224, 225, 228]
LONG_TERM_N = 4  # alive beyond 12 months


def km_sequence(ev):
    """Fast KM mirror for distinct, ordered times 1..n (same arithmetic as ``km``).

    ``ev`` may be 2-D (one ordering per row); returns (timeline, S, lower, upper)."""
    ev = np.atleast_2d(np.asarray(ev, dtype=int))
    m = ev.shape[1]
    n = np.r_[m, np.arange(m, 0, -1)][None, :]      # timeline point 0: nobody removed yet
    d = np.c_[np.zeros(len(ev), int), ev]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.cumsum(np.log(n - d) - np.log(n), axis=1)
        var = np.cumsum(np.where(n == d, 0.0, d / (n * (n - d)).astype(float)), axis=1)
        s = np.exp(log_s)
        v = np.log(s)
        lo = np.exp(-np.exp(np.log(-v) - Z * np.sqrt(var) / v))
        up = np.exp(-np.exp(np.log(-v) + Z * np.sqrt(var) / v))
    tl = np.arange(m + 1, dtype=float)
    lo, up = np.where(np.isnan(lo), 1.0, lo), np.where(np.isnan(up), 1.0, up)
    if len(ev) == 1:
        return tl, s[0], lo[0], up[0]
    return tl, s, lo, up


def os_orderings():
    """All (pre censor positions, post death positions) meeting the OS figures, best margin first.

    Times are ranks: 20 pre-6-month times (14 deaths, 6 censorings), 8 times in (6, 7.5] months
    (3 deaths, 5 censorings) and 4 censorings beyond 12 months."""
    s6_lo, s6_hi = 0.4685, 0.4695
    s12_lo, s12_hi = 0.2805, 0.2815
    out = []
    combos = list(itertools.combinations(range(20), 6))
    evs = np.ones((len(combos), 32), int)
    evs[:, 20:] = 0
    for i, cpos in enumerate(combos):
        evs[i, list(cpos)] = 0
    tl, s, lo, up = km_sequence(evs)
    keep = (s[:, 20] >= s6_lo) & (s[:, 20] < s6_hi) & (s[:, 19] > 0.5)   # median = 20th time
    for i in np.nonzero(keep)[0]:
        cpos = combos[i]
        ev = evs[i, :20]
        for dpos in itertools.combinations(range(8), 3):
            ev2 = np.zeros(8, int)
            ev2[list(dpos)] = 1
            tl, s, lo, up = km_sequence(np.r_[ev, ev2, np.zeros(LONG_TERM_N, int)])
            if not (in_window(s[20], s6_lo, s6_hi) and in_window(s[28], s12_lo, s12_hi)):
                continue
            if km_median(tl, s) != 20 or km_median(tl, up) != 28:
                continue
            margin = min(s[20] - s6_lo, s6_hi - s[20], s[28] - s12_lo, s12_hi - s[28])
            out.append((-round(margin, 9), cpos, dpos))
    out.sort()
    return [(c, d) for _, c, d in out]


@dataclass
class OSSkeleton:
    cpos: tuple
    dpos: tuple
    pre_c: list = field(default_factory=list)   # censor days <= 182
    pre_d: list = field(default_factory=list)   # death days <= 182
    post_c: list = field(default_factory=list)  # LTF days in (182, 228]
    post_d: list = field(default_factory=list)  # responder death days in (182, 229]


def os_skeleton(cpos, dpos) -> OSSkeleton:
    sk = OSSkeleton(cpos, dpos)
    for i, day in enumerate(PRE_SLOTS):
        (sk.pre_c if i in cpos else sk.pre_d).append(day)
    for i, day in enumerate(POST_SLOTS):
        (sk.post_d if i in dpos else sk.post_c).append(day)
    return sk


def check_os(sk: OSSkeleton, long_days=(400, 420, 440, 460)):
    days = sk.pre_c + sk.pre_d + sk.post_c + sk.post_d + list(long_days)
    ev = [0] * len(sk.pre_c) + [1] * len(sk.pre_d) + [0] * len(sk.post_c) + [1] * len(sk.post_d) + [0] * 4
    r = km_summary(days, ev)
    return (in_window(r["S6"], 0.4685, 0.4695) and in_window(r["S12"], 0.2805, 0.2815)
            and in_window(r["median"], 5.95, 6.05) and in_window(r["lower"], 4.45, 4.55)
            and in_window(r["upper"], 7.45, 7.55)), r


# ----------------------------------------------------------------------------------------------
# 2. Responder profiles (cycles to response, cycles given, HSCT, MRD pattern)
# ----------------------------------------------------------------------------------------------
# Cycle k starts on day 28*(k-1); the response marrow after cycle k is on day 28*(k-1) + 25.
CYCLE_GAP = 28
ASSESS_OFFSET = 25


def cr_day(c):
    return CYCLE_GAP * (c - 1) + ASSESS_OFFSET


def last_dose_day(n_cycles):
    return CYCLE_GAP * (n_cycles - 1) + 14


@dataclass(frozen=True)
class Profile:
    key: str
    group: str          # ED (dies <= 6 mo), RL (LTF <= 6 mo), LD (dies 6-7.5 mo), MID (LTF 6-12), LT
    c_resp: int         # cycle of first CR/CRi
    n_cycles: int
    hsct: bool
    mrd: str            # deep / convert / never
    resp: str = "CR"


# 19 responders: c_resp multiset {1 x8, 2 x7, 3 x2, 4, 6} (median 2, range 1-6); n_cycles
# {1 x6, 2 x5, 3 x4, 4 x2, 6 x2}; HSCT 9 (6 after a single cycle); deep 13 (cycles 1 x6, 2 x5,
# 3, 4 -> median 2), converters 5, never MRD-negative 1 (a CR); one CRi.
PROFILES = [
    Profile("ED1", "ED", 1, 2, False, "deep"),
    Profile("ED2", "ED", 1, 2, False, "deep"),
    Profile("ED3", "ED", 2, 2, False, "deep"),
    Profile("ED4", "ED", 2, 3, False, "never"),
    Profile("RL1", "RL", 2, 2, False, "deep"),
    Profile("RL3", "RL", 3, 3, False, "deep"),
    Profile("RL2", "RL", 2, 4, False, "convert"),
    Profile("LD1", "LD", 2, 3, True, "deep"),
    Profile("LD2", "LD", 3, 3, True, "convert"),
    Profile("LD3", "LD", 4, 4, False, "deep"),
    Profile("MID1", "MID", 1, 1, True, "deep"),
    Profile("MID2", "MID", 1, 1, True, "convert"),
    Profile("MID3", "MID", 2, 2, True, "deep"),
    Profile("MID4", "MID", 2, 6, False, "deep", "CRi"),
    Profile("MID5", "MID", 6, 6, False, "convert"),
    Profile("LT1", "LT", 1, 1, True, "deep"),
    Profile("LT2", "LT", 1, 1, True, "deep"),
    Profile("LT3", "LT", 1, 1, True, "deep"),
    Profile("LT4", "LT", 1, 1, True, "convert"),
]
PROF = {p.key: p for p in PROFILES}

# ----------------------------------------------------------------------------------------------
# 3. RFS skeleton
# ----------------------------------------------------------------------------------------------
ED_RELAPSE_GRID = [46, 50, 58, 66, 75, 80, 84, 92, 100, 110]
LD_RELAPSE_GRID = [186, 192, 199, 205, 210]
LT_RELAPSE_GRID = [240, 245, 255, 262, 271]
LT_CENSOR = 400  # stand-in for "alive beyond 12 months" (only the order matters for RFS)


@dataclass
class RFSSkeleton:
    ed_relapse: list            # relapse days of ED1..ED4 (sorted)
    ed_death: list              # death days of ED1..ED4
    rl_censor: list             # LTF days of RL1, RL3, RL2
    ld_relapse: list            # relapse days of the 3 LD patients (sorted with death days)
    ld_death: list
    mid_days: list              # LTF days of the 5 MID slots
    mid_relapse: dict           # slot index -> relapse day
    lt_relapse: list            # relapse days of relapsing LT patients


def rfs_items(r: RFSSkeleton):
    days, ev = [], []
    days += r.ed_relapse; ev += [1] * 4
    days += r.rl_censor; ev += [0] * 3
    days += r.ld_relapse; ev += [1] * 3
    for i, d in enumerate(r.mid_days):
        if i in r.mid_relapse:
            days.append(r.mid_relapse[i]); ev.append(1)
        else:
            days.append(d); ev.append(0)
    days += r.lt_relapse; ev += [1] * len(r.lt_relapse)
    days += [LT_CENSOR + 10 * i for i in range(4 - len(r.lt_relapse))]
    ev += [0] * (4 - len(r.lt_relapse))
    return days, ev


def rfs_ok(days, ev):
    r = km_summary(days, ev)
    return (in_window(r["median"], 6.95, 7.05) and in_window(r["lower"], 6.05, 6.15)
            and in_window(r["upper"], 8.85, 8.95)), r


def solve_rfs(sk: OSSkeleton):
    """Enumerate relapse days in a fixed order; return the first RFS skeleton meeting 7.0 (6.1-8.9)."""
    # role slots from the OS skeleton
    pre_c = sk.pre_c                      # NE, NR-LTF x2, RL x3 (time order)
    rl_censor = pre_c[3:]
    last6 = sk.pre_d[-6:]                 # [ED, NR-VOD, ED, ED, NR-VOD, ED]
    ed_death = [last6[0], last6[2], last6[3], last6[5]]
    ld_death = sorted(sk.post_d)
    mid_days = sorted(sk.post_c)
    eds = [PROF[k] for k in ("ED1", "ED2", "ED3", "ED4")]
    rls = [PROF[k] for k in ("RL1", "RL3", "RL2")]
    # RL feasibility: CR and last InO dose before the LTF day
    for p, d in zip(rls, rl_censor):
        if not (cr_day(p.c_resp) < d and last_dose_day(p.n_cycles) < d):
            return None
    for ed in itertools.combinations(ED_RELAPSE_GRID, 4):
        if not all(cr_day(p.c_resp) + 21 <= r and last_dose_day(p.n_cycles) < r < dd - 14
                   for p, r, dd in zip(eds, ed, ed_death)):
            continue
        # pre-6 part: the 4th relapse must keep the lower band above 0.5
        pre_days = list(ed) + rl_censor
        tl, s, lo, up = km(np.r_[pre_days, [300] * 12] / MONTH, [1] * 4 + [0] * 15)
        if km_median(tl, lo) < 6.05:
            continue
        for ld in itertools.combinations(LD_RELAPSE_GRID, 3):
            if not all(r < d - 10 for r, d in zip(ld, ld_death)):
                continue
            for k_mid in range(0, 4):
                for mids in itertools.combinations(range(5), k_mid):
                    mid_rel = {i: mid_days[i] - 2 for i in mids}
                    if any(v < 185 for v in mid_rel.values()):
                        continue
                    post = sorted(list(ld) + list(mid_rel.values()))
                    # necessary: 5th event in the 6.1 window, an event in the 7.0 window
                    if not post or not 185 <= post[0] <= 187:
                        continue
                    if not any(212 <= x <= 214 for x in post):
                        continue
                    for k_lt in (1, 2, 3):
                        for lt in itertools.combinations(LT_RELAPSE_GRID, k_lt):
                            if not any(270 <= x <= 272 for x in lt):
                                continue
                            r = RFSSkeleton(list(ed), ed_death, rl_censor, list(ld), ld_death,
                                            mid_days, mid_rel, list(lt))
                            ok, _ = rfs_ok(*rfs_items(r))
                            if ok:
                                return r
    return None


# ----------------------------------------------------------------------------------------------
# 4. DOR: mid-profile placement and the two undated CR/CRi responders
# ----------------------------------------------------------------------------------------------


def responder_timelines(r: RFSSkeleton, mid_order):
    """key -> dict(cr, rfs_day, rfs_event, relapse, death, last_contact)."""
    out = {}
    for k, rel, dd in zip(("ED1", "ED2", "ED3", "ED4"), r.ed_relapse, r.ed_death):
        out[k] = dict(relapse=rel, death=dd, last=None)
    for k, d in zip(("RL1", "RL3", "RL2"), r.rl_censor):
        out[k] = dict(relapse=None, death=None, last=d)
    for k, rel, dd in zip(("LD1", "LD2", "LD3"), r.ld_relapse, r.ld_death):
        out[k] = dict(relapse=rel, death=dd, last=None)
    for i, k in enumerate(mid_order):
        out[k] = dict(relapse=r.mid_relapse.get(i), death=None, last=r.mid_days[i])
    lt_keys = ("LT1", "LT2", "LT3", "LT4")
    for j, k in enumerate(lt_keys):
        rel = r.lt_relapse[j] if j < len(r.lt_relapse) else None
        out[k] = dict(relapse=rel, death=None, last=None)  # last contact = cut-off (set later)
    for k, tlv in out.items():
        tlv["cr"] = cr_day(PROF[k].c_resp)
    return out


def dor_data(tls, undated, lt_last=LT_CENSOR):
    days, ev = [], []
    for k, t in tls.items():
        if k in undated:
            continue
        if t["relapse"] is not None:
            end, e = t["relapse"], 1
        elif t["death"] is not None:
            end, e = t["death"], 1
        else:
            end, e = (t["last"] if t["last"] is not None else lt_last), 0
        days.append(end - t["cr"]); ev.append(e)
    return days, ev


def mid_feasible(r: RFSSkeleton, mid_order):
    for i, k in enumerate(mid_order):
        p = PROF[k]
        end = r.mid_relapse.get(i, r.mid_days[i])
        # CR, MRD conversion (~30 days after CR) and the last dose must precede relapse/LTF
        if not (cr_day(p.c_resp) + 30 < end and last_dose_day(p.n_cycles) + 30 < end):
            return False
        if i in r.mid_relapse and not p.hsct:
            return False  # the relapsing mid-follow-up responders are post-HSCT relapses
    return True


UNDATED_PREFERENCE = ["RL1", "RL3", "RL2", "ED1", "ED2", "ED3", "ED4"]


def solve_dor(r: RFSSkeleton):
    mids = ("MID1", "MID2", "MID3", "MID4", "MID5")
    for order in itertools.permutations(mids):
        if not mid_feasible(r, order):
            continue
        tls = responder_timelines(r, order)
        for undated in itertools.combinations(UNDATED_PREFERENCE, 2):
            days, ev = dor_data(tls, undated)
            res = km_summary(days, ev)
            m = res["median"]
            if 5.55 <= m < 6.45:  # prints "6" with a margin
                return order, undated, tls
    return None


# ----------------------------------------------------------------------------------------------
# 5. Declared plans for everything else
# ----------------------------------------------------------------------------------------------
CENTRES = {  # centre -> data cut-off (Figure 1 data-collection window, paper-conflicts C12)
    "Centre A": date(2023, 3, 8),
    "Centre B": date(2023, 5, 15),
    "Centre C": date(2023, 7, 10),
    "Centre D": date(2023, 8, 21),
    "Centre E": date(2023, 10, 16),
}

# Non-responder / NE roles, keyed by their OS slot.
# pre-6 censorings in time order: NE, NR-LTF a, NR-LTF b, then the three RL responders.
# pre-6 deaths in time order: the first 8 plus last6[1], last6[4] are non-responders.
NR_DEATH_PLAN = [  # (key, n_cycles, cause) for the 8 earliest deaths, in time order
    ("NRD1", 1, "septic shock"),
    ("NRD2", 1, "progression of disease"),
    ("NRD3", 2, "progression of disease"),
    ("NRD4", 2, "not mentioned"),
    ("NRD5", 3, "progression of disease"),
    ("NRD6", 1, "septic shock"),
    ("NRD7", 1, "progression of disease"),
    ("NRD8", 1, "not mentioned"),
]
NR_HSCT_PLAN = [  # (key, n_cycles, other salvage, cause) for last6[1], last6[4]
    ("NRH1", 2, "FLAG-Ida", "VOD-related multi-organ failure"),
    ("NRH2", 1, "hyper-CVAD (course B)", "VOD pneumonia"),
]

# Baseline subgroup plan (key -> salvage_line, blast_pct, sex, disease_status, ph, tki, emd)
# Responders salvage 1/2/3 = 6/11/2, blasts <50/>50 = 10/9; non-responders+NE 4/7/2 and 6/7.
# VOD patients by salvage line 2/3/2 (Table 7).
BASELINE = {
    #        line blast  sex status        ph     tki emd
    "ED1":  (1, 34.0, "M", "relapsed", "Ph-", 0, False),
    "ED2":  (2, 72.0, "M", "relapsed", "Ph+", 1, False),
    "ED3":  (2, 64.0, "F", "relapsed", "Ph-", 0, False),
    "ED4":  (3, 81.0, "M", "refractory", "Ph-", 0, False),
    "RL1":  (2, 22.0, "M", "relapsed", "Ph-", 0, False),
    "RL3":  (2, 58.0, "F", "relapsed", "Ph-", 0, False),
    "RL2":  (3, 45.0, "M", "relapsed", "Ph+", 2, False),
    "LD1":  (1, 67.0, "M", "relapsed", "Ph-", 0, False),
    "LD2":  (2, 38.0, "F", "relapsed", "Ph-", 0, False),
    "LD3":  (1, 88.0, "M", "relapsed", "Ph+", 1, False),
    "MID1": (1, 27.0, "F", "relapsed", "Ph-", 0, False),
    "MID2": (2, 76.0, "M", "relapsed", "Ph-", 0, False),
    "MID3": (1, 18.0, "M", "relapsed", "Ph-", 0, False),
    "MID4": (2, 41.0, "F", "relapsed", "Ph+", 1, False),
    "MID5": (2, 93.0, "M", "relapsed", "Ph-", 0, False),
    "LT1":  (2, 12.0, "M", "relapsed", "Ph-", 0, False),
    "LT2":  (2, 53.0, "F", "relapsed", "Ph-", 0, True),
    "LT3":  (1, 30.0, "M", "relapsed", "Ph-", 0, False),
    "LT4":  (2, 48.0, "M", "relapsed", "Ph+", 1, False),
    "NE":   (2, 78.0, "M", "relapsed", "Ph-", 0, False),
    "NRL1": (1, 36.0, "F", "relapsed", "Ph-", 0, False),
    "NRL2": (2, 62.0, "M", "relapsed", "Ph-", 0, False),
    "NRD1": (2, 91.0, "M", "refractory", "Ph-", 0, False),
    "NRD2": (1, 84.0, "F", "relapsed", "Ph+", 1, True),
    "NRD3": (2, 26.0, "M", "relapsed", "Ph-", 0, False),
    "NRD4": (2, 69.0, "M", "relapsed", "Ph-", 0, False),
    "NRD5": (3, 47.0, "F", "relapsed", "Ph-", 0, False),
    "NRD6": (1, 15.0, "M", "refractory", "Ph-", 0, False),
    "NRD7": (2, 95.0, "F", "relapsed", "Ph+", 2, False),
    "NRD8": (1, 44.0, "M", "refractory", "Ph-", 0, False),
    "NRH1": (3, 73.0, "M", "relapsed", "Ph-", 0, False),
    "NRH2": (2, 33.0, "F", "relapsed", "Ph-", 0, False),
}

# Cycle-1 dose schedule (mg/m2 on D1/D8/D15; '-' = dose not given). 12 standard, 17 reduced,
# 3 increased.  Later cycles 0.5/0.5/0.5.
STD, INC_A, INC_B = "0.8/0.5/0.5", "1.0/0.5/0.5", "0.8/0.8/0.5"
RED = ["0.6/0.5/0.5", "0.5/0.5/0.5", "0.8/0.5/-", "0.6/0.4/0.4", "0.5/0.5/0.4"]
C1_SCHEDULE = {
    "ED1": STD, "ED2": RED[0], "ED3": RED[1], "ED4": STD, "RL1": RED[3], "RL3": STD,
    "RL2": RED[0], "LD1": STD, "LD2": RED[4], "LD3": INC_A, "MID1": STD, "MID2": RED[1],
    "MID3": STD, "MID4": RED[0], "MID5": RED[3], "LT1": STD, "LT2": INC_B, "LT3": RED[1],
    "LT4": STD, "NE": RED[2], "NRL1": RED[1], "NRL2": STD, "NRD1": RED[3], "NRD2": RED[0],
    "NRD3": STD, "NRD4": RED[4], "NRD5": INC_A, "NRD6": STD, "NRD7": RED[0], "NRD8": RED[3],
    "NRH1": STD, "NRH2": RED[4],
}

# Adverse events (patient level).  Haematologic 28 (HSCT 9/11, no-HSCT 19/20); thrombocytopenia
# 27, neutropenia 20, febrile neutropenia 14 (all within neutropenia); grade 3/4 liver 12 (HSCT 4,
# no-HSCT 8) with AST 9 / ALT 6 / bilirubin 8; VOD 7 (5 post-HSCT, 2 without HSCT).
NO_HAEM = {"LT3", "MID1", "NRL2"}          # + NE (no safety data)
NO_THROMBO = {"RL1"}                         # neutropenia only
NEUTRO = ["ED1", "ED2", "ED4", "RL1", "RL2", "LD1", "LD3", "MID2", "MID4", "MID5", "LT1", "LT4",
          "NRL1", "NRD1", "NRD3", "NRD5", "NRD6", "NRD7", "NRH1", "NRH2"]
FEBRILE = ["ED1", "ED4", "RL2", "LD1", "MID4", "LT1", "NRD1", "NRD3", "NRD5", "NRD6", "NRD7",
           "NRH1", "NRH2", "LT4"]
LIVER = {  # key -> grade>=3 terms
    "LT2": ["AST", "bilirubin"], "LT4": ["AST", "ALT"], "MID2": ["bilirubin"], "LD2": ["AST"],
    "ED1": ["AST", "ALT"], "ED3": ["bilirubin"], "RL2": ["AST", "ALT", "bilirubin"],
    "LD3": ["AST"], "MID5": ["ALT", "bilirubin"], "NRD3": ["AST", "bilirubin"],
    "NRD4": ["AST", "ALT", "bilirubin"], "NRD7": ["AST", "ALT", "bilirubin"],
}
LIVER_LOW = {"ED2": "AST", "LD1": "ALT", "NRD5": "bilirubin", "LT1": "ALT", "MID4": "AST"}
VOD_HSCT = ["NRH1", "NRH2", "LD1", "LT1", "MID3"]
VOD_NO_HSCT = ["MID4", "NRD5"]

# Ages: the two > 65 are NRD1 (dies early while both are at risk) and LT3 (alive at 12 months).
AGE_OLD = {"NRD1": 71.02, "LT3": 68.78}


def round_half_up(x, nd=0):
    q = 10 ** nd
    return math.floor(x * q + 0.5 + 1e-9) / q


def solve_ages():
    """32 decimal ages (2 dp), sorted: min 18.52, 15 below / two at / 15 above the median 37.41
    (two of them 68.78 and 71.02), mean rounding to 37.41 and SD (ddof=1) rounding to 15.16.

    One-parameter family: lower half 37.41 - 18.89*u**p, upper half 37.41 + b*w with b fixed by
    the mean; p is scanned in a fixed order until the SD lands on 15.16 (closest-first)."""
    u = np.linspace(1, 0.06, 15)
    w = np.linspace(0.05, 1, 13)
    best = None
    for p1000 in range(300, 600):
        p = p1000 / 1000
        low = 37.41 - 18.89 * u ** p
        b = (18.89 * (u ** p).sum() - (68.78 - 37.41) - (71.02 - 37.41)) / w.sum()
        high = 37.41 + b * w
        ages = np.round(np.r_[low, [37.41, 37.41], high, [68.78, 71.02]], 2)
        if high.max() >= 65 or high.min() <= 37.41:
            continue
        mean, sd, med = ages.mean(), ages.std(ddof=1), np.median(ages)
        if not (round_half_up(mean, 2) == 37.41 and round_half_up(sd, 2) == 15.16
                and med == 37.41 and ages.min() == 18.52 and (ages > 65).sum() == 2):
            continue
        score = abs(sd - 15.16) + abs(mean - 37.41)
        if best is None or score < best[0]:
            best = (score, sorted(ages.tolist()))
    if best is None:
        raise RuntimeError("no age vector found")
    return best[1]


# ----------------------------------------------------------------------------------------------
# 6. Assemble the facts
# ----------------------------------------------------------------------------------------------
LATER_SCHEDULE = "0.5/0.5/0.5"
HSCT_DAY = {  # responders: 1-cycle HSCTs 45-70 days after CR; NR: after other salvage
    "LT1": 70, "LT2": 77, "LT3": 84, "LT4": 91, "MID1": 75, "MID2": 88, "MID3": 95,
    "LD1": 110, "LD2": 118, "NRH1": 112, "NRH2": 130,
}
HSCT_DETAIL = {
    "LT1": "haploidentical donor; myeloablative TBI/Cy conditioning; PTCy",
    "LT2": "matched sibling donor; myeloablative Bu/Cy conditioning",
    "LT3": "matched unrelated donor; reduced-intensity Flu/Mel conditioning",
    "LT4": "haploidentical donor; myeloablative Flu/Bu conditioning; PTCy",
    "MID1": "matched sibling donor; myeloablative TBI/Cy conditioning",
    "MID2": "haploidentical donor; myeloablative Flu/Bu conditioning; PTCy",
    "MID3": "haploidentical donor; myeloablative TBI/Flu conditioning; PTCy",
    "LD1": "haploidentical donor; myeloablative Flu/Bu conditioning; PTCy",
    "LD2": "matched sibling donor; reduced-intensity Flu/Mel conditioning",
    "NRH1": "haploidentical donor; myeloablative Flu/Bu conditioning; PTCy",
    "NRH2": "haploidentical donor; myeloablative TBI/Cy conditioning; PTCy",
}
RELAPSE_SITE = {"ED3": "CNS", "LT1": "extramedullary", "LD2": "marrow+CNS"}
SEED = 20231016


def _fmt_assess(items):
    return ";".join(f"{c}:{r}@{'?' if d is None else d}" for c, r, d in items)


def build_facts(verify: bool = True) -> pd.DataFrame:
    if verify:
        verify_mirror(20)
    sk = rfs = dor = None
    for cpos, dpos in os_orderings():
        sk = os_skeleton(cpos, dpos)
        if not check_os(sk)[0]:
            continue
        rfs = solve_rfs(sk)
        if rfs is None:
            continue
        dor = solve_dor(rfs)
        if dor is not None:
            break
    assert dor is not None, "no skeleton found"
    mid_order, undated, tls = dor

    # --- per-key timelines ---------------------------------------------------------------
    P = {}
    for k, t in tls.items():
        p = PROF[k]
        P[k] = dict(kind="responder", n_cycles=p.n_cycles, relapse=t["relapse"], death=t["death"],
                    last=t["last"], status="lost to follow-up" if t["last"] is not None else None)
    for k in ("LT1", "LT2", "LT3", "LT4"):
        P[k]["status"] = "alive at cut-off"
    pre_c = sk.pre_c
    P["NE"] = dict(kind="ne", n_cycles=1, relapse=None, death=None, last=pre_c[0], status="lost to follow-up")
    P["NRL1"] = dict(kind="nr", n_cycles=1, relapse=None, death=None, last=pre_c[1], status="lost to follow-up")
    P["NRL2"] = dict(kind="nr", n_cycles=1, relapse=None, death=None, last=pre_c[2], status="lost to follow-up")
    for (k, nc, cause), d in zip(NR_DEATH_PLAN, sk.pre_d[:8]):
        P[k] = dict(kind="nr", n_cycles=nc, relapse=None, death=d, last=None, status=None, cause=cause)
    last6 = sk.pre_d[-6:]
    for (k, nc, sal, cause), d in zip(NR_HSCT_PLAN, (last6[1], last6[4])):
        P[k] = dict(kind="nr", n_cycles=nc, relapse=None, death=d, last=None, status=None,
                    cause=cause, salvage=sal)
    assert len(P) == 32

    # --- deterministic patient ids ---------------------------------------------------------
    rng = np.random.default_rng(SEED)
    keys = sorted(P)
    for _ in range(1000):
        order = [keys[i] for i in rng.permutation(len(keys))]
        # long-term survivors need > 1 year of potential follow-up: not among the last 3 starts
        # ... and every InO dose must fall before the end of Oct 2022 (the last start is 10 Oct)
        if not any(P[k]["status"] == "alive at cut-off" for k in order[-3:]) and P[order[-1]]["n_cycles"] == 1:
            break
    pid = {k: f"P{i + 1:02d}" for i, k in enumerate(order)}

    # --- ages --------------------------------------------------------------------------------
    ages = solve_ages()
    age = {}
    rest = list(ages)
    for k, a in AGE_OLD.items():
        age[k] = a
        rest.remove(a)
    others = [k for k in order if k not in AGE_OLD]
    perm = rng.permutation(len(others))
    for k, i in zip(others, perm):
        age[k] = rest[i]

    # --- calendar: C1D1 spread Feb 2017 .. Oct 2022 in id order; centre by feasibility -------
    first, last = date(2017, 2, 13), date(2022, 10, 10)
    span = (last - first).days
    starts = {k: first + timedelta(days=round(i * span / 31)) for i, k in enumerate(order)}
    centre_names = list(CENTRES)
    centre = {}
    for i, k in enumerate(order):
        s = starts[k]
        need = max(x for x in (P[k]["death"], P[k]["last"], 200) if x is not None)
        for j in range(5):
            c = centre_names[(i + j) % 5]
            cut = CENTRES[c]
            six_months = date(s.year + (s.month + 5) // 12, (s.month + 5) % 12 + 1, min(s.day, 28))
            ok = cut >= six_months and (cut - s).days >= need
            if P[k]["status"] == "alive at cut-off":
                ok = ok and (cut - s).days >= 366
            if ok:
                centre[k] = c
                break
        else:
            raise RuntimeError(f"no centre for {k}")
    for k in ("LT1", "LT2", "LT3", "LT4"):
        P[k]["last"] = (CENTRES[centre[k]] - starts[k]).days

    rows = []
    for k in order:
        info = P[k]
        line, blast, sex, status, ph, tki, emd = BASELINE[k]
        n_c = info["n_cycles"]
        starts_days = [CYCLE_GAP * i for i in range(n_c)]
        end = info["death"] if info["death"] is not None else info["last"]
        assess, mrd = [], []
        hsct = HSCT_DAY.get(k)
        if info["kind"] == "responder":
            p = PROF[k]
            stop = info["relapse"] if info["relapse"] is not None else end
            for c in range(1, n_c + 1):
                d = cr_day(c)
                if d >= stop:
                    break
                if c < p.c_resp:
                    assess.append((c, "NR", d))
                elif c == p.c_resp:
                    assess.append((c, p.resp, None if k in undated else d))
                else:
                    assess.append((c, "CR", d))
            cdate = None if k in undated else cr_day(p.c_resp)
            if p.mrd == "deep":
                mrd.append((p.c_resp, "negative", cdate))
            else:
                mrd.append((p.c_resp, "positive", cdate))
                if p.mrd == "never":
                    if n_c > p.c_resp and cr_day(p.c_resp + 1) < stop:
                        mrd.append((p.c_resp + 1, "positive", cr_day(p.c_resp + 1)))
                elif n_c > p.c_resp and cr_day(p.c_resp + 1) < stop:
                    mrd.append((p.c_resp + 1, "negative", cr_day(p.c_resp + 1)))
                elif hsct is not None:
                    mrd.append((n_c, "negative", hsct - 7))        # pre-HSCT work-up marrow
                else:
                    mrd.append((n_c, "negative", cr_day(p.c_resp) + 30))  # follow-up marrow
            if p.mrd == "deep" and hsct is not None:
                mrd.append((n_c, "negative", hsct - 7))
            best, rc = p.resp, p.c_resp
            rday = None if k in undated else cr_day(p.c_resp)
        elif info["kind"] == "nr":
            for c in range(1, n_c + 1):
                assess.append((c, "NR", cr_day(c)))
            best, rc, rday = "NR", None, None
        else:
            best, rc, rday = "NE", None, None

        # adverse events
        aes = []
        if k != "NE":
            if k not in NO_HAEM and k not in NO_THROMBO:
                aes.append(("thrombocytopenia", 4 if line >= 2 else 3, 10))
            if k in NEUTRO:
                aes.append(("neutropenia", 4, 12))
            if k in FEBRILE:
                aes.append(("febrile neutropenia", 3, 16))
            for term in LIVER.get(k, []):
                aes.append((f"{term} increased", 3, {"AST": 20, "ALT": 21, "bilirubin": 22}[term]))
            if k in LIVER_LOW:
                aes.append((f"{LIVER_LOW[k]} increased", 2, 19))
            if k in VOD_HSCT:
                aes.append(("VOD", 4 if P[k]["death"] is not None and P[k].get("cause", "").startswith("VOD") else 3,
                            hsct + 14))
            if k in VOD_NO_HSCT:
                aes.append(("VOD", 3, last_dose_day(n_c) + 8))
        ae_txt = ";".join(f"{t}:{g}@{d}" for t, g, d in sorted(aes, key=lambda x: (x[2], x[0])))

        # subsequent therapy
        sub = []
        if "salvage" in info:
            sub.append((info["salvage"], 30 if n_c == 1 else 58))
        if info["relapse"] is not None and (info["death"] is not None or info["last"] - info["relapse"] > 14):
            label = "blinatumomab" if info["death"] is None else "salvage chemotherapy"
            sub.append((label, info["relapse"] + 6))
        sub_txt = ";".join(f"{t}@{d}" for t, d in sub)

        if info["kind"] == "responder":
            cause = "CNS relapse" if RELAPSE_SITE.get(k) == "CNS" else "relapse"
        else:
            cause = info.get("cause")
        story = {
            "ED": "responder; relapsed and died before 6 months", "RL": "responder; lost to follow-up before 6 months",
            "LD": "responder; relapsed and died at 6-7.5 months", "MID": "responder; lost to follow-up at 6-12 months",
            "LT": "responder; alive at cut-off (>12 months)",
        }.get(PROF[k].group if k in PROF else "", "")
        if k == "NE":
            story = "not evaluable; lost to follow-up before the first marrow"
        elif k.startswith("NRL"):
            story = "non-responder; lost to follow-up before 6 months"
        elif k.startswith("NRD"):
            story = "non-responder; died before 6 months"
        elif k.startswith("NRH"):
            story = f"non-responder; {info['salvage']} then HSCT; fatal VOD"
        rows.append(dict(
            patient_id=pid[k], plan_key=k, story=story, centre=centre[k], sex=sex, age_years=age[k],
            ph_status=ph, prior_tki_count=tki, cd22_pct=float(60 + (int(pid[k][1:]) * 7) % 40),
            disease_status=status, salvage_line=line, blast_pct=blast, emd_baseline=emd,
            ino_start_date=starts[k].isoformat(), data_cutoff_date=CENTRES[centre[k]].isoformat(),
            safety_evaluable=(k != "NE"), n_cycles=n_c,
            cycle_start_days=";".join(map(str, starts_days)),
            c1_doses=C1_SCHEDULE[k], later_doses=LATER_SCHEDULE if n_c > 1 else "",
            best_response=best, response_cycle=rc if rc is not None else "",
            response_day=rday if rday is not None else "",
            assessments=_fmt_assess(assess), mrd=_fmt_assess(mrd),
            hsct_day=hsct if hsct is not None else "", hsct_detail=HSCT_DETAIL.get(k, ""),
            relapse_day=info["relapse"] if info["relapse"] is not None else "",
            relapse_site=(RELAPSE_SITE.get(k, "marrow") if info["relapse"] is not None else ""),
            death_day=info["death"] if info["death"] is not None else "",
            death_cause=cause if info["death"] is not None else "",
            last_contact_day=info["last"] if info["death"] is None else "",
            last_contact_status=info["status"] if info["death"] is None else "",
            adverse_events=ae_txt, subsequent_therapy=sub_txt,
        ))
    df = pd.DataFrame(rows).sort_values("patient_id").reset_index(drop=True)
    return df


def facts_to_csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


def main():
    import time

    t0 = time.time()
    df = build_facts()
    FACTS_CSV.write_text(facts_to_csv_text(df))
    print(f"wrote {FACTS_CSV.relative_to(HERE.parent.parent)} ({len(df)} patients) in {time.time() - t0:.1f}s")
    from .expand import reconstructed_tables
    from .paper_check import check_all

    pts, ev, meta = reconstructed_tables()
    res = check_all(pts, ev)
    n_ok = int(res["match"].sum())
    print(f"targets matched: {n_ok}/{len(res)}")
    miss = res[~res["match"]]
    for _, r in miss.iterrows():
        print(f"  miss {r['id']}: published {r['published']} -> computed {r['computed']}")


if __name__ == "__main__":
    main()
