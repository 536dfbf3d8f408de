"""Recompute the paper's 169 data-derived figures from patients/events tables (audit helper).

Definitions follow /work/shared/reference/paper-targets.md; KM via lifelines defaults.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

MONTH = 30.4375


def rh(x, nd=0):
    """Half-up rounding at nd decimals (robust to binary noise)."""
    q = 10 ** nd
    return math.floor(x * q + 0.5 + 1e-9) / q


def pct(k, n, nd):
    return rh(100.0 * k / n, nd)


def _km(t, e):
    f = KaplanMeierFitter().fit(np.asarray(t, float), np.asarray(e, int))
    ci = median_survival_times(f.confidence_interval_)
    return f, float(ci.iloc[0, 0]), float(ci.iloc[0, 1])


def derive(patients: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    ev = events.copy()
    ev["event_date"] = pd.to_datetime(ev["event_date"])
    p = patients.set_index("patient_id").copy()
    p["c1d1"] = pd.to_datetime(p["ino_start_date"])
    dose = ev[ev.event_type == "ino_dose"]
    p["c1_dose"] = dose[dose.cycle == 1].groupby("patient_id")["dose_mg_m2"].sum()
    p["n_cycles"] = dose.groupby("patient_id")["cycle"].max()
    resp = ev[ev.event_type == "response"]
    crr = resp[resp.response.isin(["CR", "CRi"])].sort_values(["patient_id", "cycle"])
    first = crr.groupby("patient_id").first()
    p["responder"] = p.index.isin(first.index)
    p["evaluable"] = p.index.isin(resp.patient_id)
    p["first_resp"] = first["response"]
    p["resp_cycle"] = first["cycle"]
    p["resp_date"] = first["event_date"]
    mrd = ev[ev.event_type == "mrd"]
    neg = mrd[mrd.mrd == "negative"]
    p["mrd_neg"] = p.index.isin(neg.patient_id)
    deep = []
    for pid, r in p[p.responder].iterrows():
        m = neg[neg.patient_id == pid]
        if pd.notna(r.resp_date):
            ok = (m.event_date == r.resp_date).any()
        else:
            ok = (m.event_date.isna() & (m.cycle == r.resp_cycle)).any()
        if ok:
            deep.append(pid)
    p["deep"] = p.index.isin(deep)
    hs = ev[ev.event_type == "hsct"].groupby("patient_id")["event_date"].min()
    p["hsct_date"] = hs
    p["hsct"] = p.index.isin(hs.index)
    death = ev[ev.event_type == "death"].groupby("patient_id").agg(d=("event_date", "min"), cause=("cause", "first"))
    p["death_date"] = death["d"]
    p["cause"] = death["cause"]
    lc = ev[ev.event_type == "last_contact"].groupby("patient_id").agg(d=("event_date", "max"), st=("followup_status", "first"))
    p["lc_date"] = lc["d"]
    p["lc_status"] = lc["st"]
    rel = ev[ev.event_type == "relapse"].groupby("patient_id")["event_date"].min()
    p["relapse_date"] = rel
    p["os_event"] = p.death_date.notna().astype(int)
    p["os_t"] = ((p.death_date.fillna(p.lc_date) - p.c1d1).dt.days) / MONTH
    end_rfs = pd.concat([p.relapse_date, p.death_date], axis=1).min(axis=1)
    p["rfs_event"] = end_rfs.notna().astype(int)
    p["rfs_t"] = ((end_rfs.fillna(p.lc_date) - p.c1d1).dt.days) / MONTH
    p["dor_t"] = ((end_rfs.fillna(p.lc_date) - p.resp_date).dt.days) / MONTH
    ae = ev[ev.event_type == "adverse_event"]
    def has(mask):
        return p.index.isin(ae[mask].patient_id)
    p["vod"] = has(ae.ae_term == "VOD")
    vod_first = ae[ae.ae_term == "VOD"].groupby("patient_id")["event_date"].min()
    p["vod_post_hsct"] = (vod_first.reindex(p.index) >= p.hsct_date).fillna(False).astype(bool)
    p["thrombo"] = has(ae.ae_term == "thrombocytopenia")
    p["neutro"] = has(ae.ae_term == "neutropenia")
    p["fn"] = has(ae.ae_term == "febrile neutropenia")
    p["haem"] = p.thrombo | p.neutro | p.fn
    for t, col in (("AST increased", "ast"), ("ALT increased", "alt"), ("bilirubin increased", "bili")):
        p[col] = has((ae.ae_term == t) & (ae.ae_grade >= 3))
    p["liver"] = p.ast | p.alt | p.bili
    return p


def check_all(patients: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    p = derive(patients, events)
    ev = events.copy()
    ev["event_date"] = pd.to_datetime(ev["event_date"])
    N = len(p)
    R = p[p.responder]
    T = []

    def add(tid, published, computed, match=None):
        if match is None:
            match = published == computed
        T.append(dict(id=tid, published=published, computed=computed, match=bool(match)))

    dose = ev[ev.event_type == "ino_dose"]
    c1d1 = dose[(dose.cycle == 1) & (dose.cycle_day == 1)].groupby("patient_id")["event_date"].min()
    add("A01", 32, N)
    add("A02", 5, p.centre.nunique())
    add("A03", "Feb 2017", c1d1.min().strftime("%b %Y"))
    add("A04", "Oct 2022", c1d1.max().strftime("%b %Y"))
    add("A05", "Feb 2017-Oct 2022", f"{dose.event_date.min():%b %Y}-{dose.event_date.max():%b %Y}")
    add("A06", ">18", ">18" if p.age_years.min() > 18 else f"{p.age_years.min()}")
    add("A07", 37.41, rh(p.age_years.median(), 2))
    add("A08", 37.41, rh(p.age_years.mean(), 2))
    add("A09", 15.16, rh(p.age_years.std(ddof=1), 2))
    add("A10", 30, int(((p.age_years >= 18) & (p.age_years <= 65)).sum()))
    add("A11", 2, int((p.age_years > 65).sum()))
    nf, nm = int((p.sex == "F").sum()), int((p.sex == "M").sum())
    add("A12", 11, nf); add("A13", 34.4, pct(nf, N, 1)); add("A14", 21, nm); add("A15", 65.6, pct(nm, N, 1))
    add("A16", 28, int((p.disease_status == "relapsed").sum()))
    add("A17", 4, int((p.disease_status == "refractory").sum()))
    s = p.salvage_line.value_counts()
    add("A18", 10, int(s.get(1, 0))); add("A19", 31.3, pct(s.get(1, 0), N, 1))
    add("A20", 18, int(s.get(2, 0))); add("A21", 56.3, pct(s.get(2, 0), N, 1))
    add("A22", 56.4, pct(s.get(2, 0), N, 1))
    add("A23", 4, int(s.get(3, 0))); add("A24", 12.5, pct(s.get(3, 0), N, 1))
    nc = p.n_cycles.value_counts()
    for tid, k, pub_n, pub_p, nd in (("A25", 1, 15, 46.9, 1), ("A27", 2, 8, 25, 0), ("A29", 3, 5, 15.6, 1),
                                     ("A31", 4, 2, 6.3, 1), ("A33", 6, 2, 6.3, 1)):
        add(tid, pub_n, int(nc.get(k, 0)))
        add(f"A{int(tid[1:]) + 1:02d}", pub_p, pct(nc.get(k, 0), N, nd))
    std = (p.c1_dose - 1.8).abs() <= 0.005
    lo, hi = (p.c1_dose < 1.8) & ~std, (p.c1_dose > 1.8) & ~std
    add("A35", 12, int(std.sum())); add("A36", 37.5, pct(std.sum(), N, 1))
    add("A37", 17, int(lo.sum())); add("A38", 53.1, pct(lo.sum(), N, 1))
    add("A39", 3, int(hi.sum())); add("A40", 9.4, pct(hi.sum(), N, 1))
    c1 = dose[dose.cycle == 1]
    ok41 = all(
        sorted(zip(c1[c1.patient_id == pid].cycle_day, c1[c1.patient_id == pid].dose_mg_m2)) == [(1, 0.8), (8, 0.5), (15, 0.5)]
        for pid in p.index[std])
    add("A41", "12/12 on D1 0.8 / D8 0.5 / D15 0.5", "12/12 on D1 0.8 / D8 0.5 / D15 0.5" if ok41 else "no")
    d1 = dose[dose.cycle_day == 1].sort_values(["patient_id", "cycle"])
    gaps = d1.groupby("patient_id")["event_date"].diff().dropna().dt.days
    add("A42", "all 21-28 d", "all 21-28 d" if gaps.between(21, 28).all() else f"{gaps.min()}-{gaps.max()}")
    b_lo, b_hi = int((p.blast_pct < 50).sum()), int((p.blast_pct > 50).sum())
    add("A43", 16, b_lo); add("A44", 50, pct(b_lo, N, 0)); add("A45", 16, b_hi); add("A46", 50, pct(b_hi, N, 0))
    ne = int(p.emd_baseline.sum())
    add("A47", 2, ne); add("A48", 6.25, pct(ne, N, 2))
    add("A49", 100, pct((p.cd22_pct > 0).sum(), N, 0))
    add("A50", "all Ph+ had >=1 TKI", "all Ph+ had >=1 TKI" if (p[p.ph_status == "Ph+"].prior_tki_count >= 1).all() else "no")
    cut = pd.to_datetime(p.data_cutoff_date)
    ok52 = (ev.event_date.max() <= pd.Timestamp("2023-10-16") and cut.min() >= pd.Timestamp("2023-03-08")
            and cut.max() <= pd.Timestamp("2023-10-16")
            and all((ev[ev.patient_id == pid].event_date.dropna() <= cut[pid]).all() for pid in p.index))
    add("A52", "8 Mar-16 Oct 2023", "8 Mar-16 Oct 2023" if ok52 else "no")
    six = all(cut[pid] >= p.c1d1[pid] + pd.DateOffset(months=6) for pid in p.index)
    add("A53", ">=6 months", ">=6 months" if six else "no")

    nr_ = len(R)
    add("B01", 19, nr_); add("B02", 59.4, pct(nr_, N, 1))
    add("B03", 18, int((R.first_resp == "CR").sum())); add("B04", 1, int((R.first_resp == "CRi").sum()))
    nonr = p[p.evaluable & ~p.responder]
    add("B05", 12, len(nonr)); add("B06", 37.5, pct(len(nonr), N, 1))
    add("B07", 1, int((~p.evaluable).sum()))
    add("B08", 2, rh(R.resp_cycle.median(), 0))
    add("B09", "1 to 6", f"{int(R.resp_cycle.min())} to {int(R.resp_cycle.max())}")
    for (tn, tp, line, pn, pp, nd) in (("B10", "B11", 1, 6, 60, 0), ("B12", "B13", 2, 11, 61, 0), ("B14", "B15", 3, 2, 50, 0)):
        k = int(R.salvage_line.eq(line).sum()); n = int(p.salvage_line.eq(line).sum())
        add(tn, pn, k); add(tp, pp, pct(k, n, nd))
    k = int((R.blast_pct < 50).sum()); add("B16", 10, k); add("B17", 62.5, pct(k, b_lo, 1))
    k = int((R.blast_pct > 50).sum()); add("B18", 9, k); add("B19", 56.25, pct(k, b_hi, 2))
    add("B20", 1, int((p.emd_baseline & p.responder & p.hsct).sum()))
    add("B21", 1, int((p.emd_baseline & p.evaluable & ~p.responder).sum()))
    r = ev[ev.event_type == "response"]
    okcr = ((r.response != "CR") | ((r.marrow_blast_pct <= 5) & ~r.emd_present.astype(bool) & (r.platelets_10e9_l > 100) & (r.anc_10e9_l > 1))).all()
    okcri = ((r.response != "CRi") | ((r.marrow_blast_pct <= 5) & ~r.emd_present.astype(bool) & ((r.platelets_10e9_l < 100) | (r.anc_10e9_l < 1)))).all()
    oknr = ((r.response != "NR") | (r.marrow_blast_pct > 5) | r.emd_present.astype(bool)).all()
    add("B22", "consistent", "consistent" if okcr and okcri and oknr else "inconsistent")

    m = int(R.mrd_neg.sum())
    add("M01", 18, m); add("M02", 94.7, pct(m, nr_, 1))
    CR, CRi = R[R.first_resp == "CR"], R[R.first_resp == "CRi"]
    add("M03", 17, int(CR.mrd_neg.sum())); add("M04", 94.4, pct(CR.mrd_neg.sum(), len(CR), 1))
    add("M05", 1, int((~CR.mrd_neg).sum())); add("M06", 5.6, pct((~CR.mrd_neg).sum(), len(CR), 1))
    add("M07", 1, int(CRi.mrd_neg.sum())); add("M08", 100, pct(CRi.mrd_neg.sum(), len(CRi), 0))
    add("M09", 0, int((~CRi.mrd_neg).sum()))
    add("M10", 94.8, pct(m, nr_, 1)); add("M11", 5.2, pct(nr_ - m, nr_, 1))
    dp = R[R.deep]
    add("M12", 13, len(dp)); add("M13", 68.4, pct(len(dp), nr_, 1)); add("M14", 2, rh(dp.resp_cycle.median(), 0))

    nh = int(p.hsct.sum())
    add("D01", 11, nh); add("D02", 34.4, pct(nh, N, 1))
    rh_ = R[R.hsct]
    add("D03", 9, len(rh_)); add("D04", 47.4, pct(len(rh_), nr_, 1))
    one = int((rh_.n_cycles == 1).sum())
    add("D05", 6, one); add("D06", 66.7, pct(one, len(rh_), 1))

    dated = R[R.resp_date.notna()]
    add("E01", 17, len(dated))
    fd, _, _ = _km(dated.dor_t, dated.rfs_event)
    add("E02", 6, rh(fd.median_survival_time_, 0))
    fo, ol, ou = _km(p.os_t, p.os_event)
    add("E03", 46.9, pct(fo.survival_function_at_times(6.0).iloc[0], 1, 1))
    add("E04", 28.1, pct(fo.survival_function_at_times(12.0).iloc[0], 1, 1))
    add("E05", 6.0, rh(fo.median_survival_time_, 1))
    add("E06", 4.5, rh(ol, 1)); add("E07", 7.5, rh(ou, 1))
    add("E08", 9, int((p.os_t >= 12.0).sum()))
    old = p[p.age_years > 65]
    fa, _, _ = _km(old.os_t, old.os_event)
    add("E09", 50, pct(fa.survival_function_at_times(6.0).iloc[0], 1, 0))
    add("E10", 50, pct(fa.survival_function_at_times(12.0).iloc[0], 1, 0))
    fr, rl, ru = _km(R.rfs_t, R.rfs_event)
    add("E11", 7.0, rh(fr.median_survival_time_, 1)); add("E12", 6.1, rh(rl, 1)); add("E13", 8.9, rh(ru, 1))
    nd_ = int(p.os_event.sum())
    add("E14", 17, nd_); add("E15", 53.1, pct(nd_, N, 1))
    ltf = p[(p.os_event == 0) & (p.lc_status == "lost to follow-up")]
    add("E16", 5, int((ltf.os_t <= 6.0).sum()))
    add("E17", 5, int(((ltf.os_t > 6.0) & (ltf.os_t <= 12.0)).sum()))
    add("E18", "-", rh(fo.median_survival_time_, 1), False)

    nv = int(p.vod.sum())
    add("F01", 7, nv); add("F02", 22, pct(nv, N, 0)); add("F03", 21.87, pct(nv, N, 2))
    post = int(p.vod_post_hsct.sum())
    add("F04", 5, post); add("F05", 71.4, pct(post, nv, 1))
    nl = int(p.liver.sum()); add("F06", 12, nl); add("F07", 37.5, pct(nl, N, 1))
    nhm = int(p.haem.sum()); add("F08", 28, nhm); add("F09", 87.5, pct(nhm, N, 1))
    H = p[p.hsct]; NH = p[~p.hsct & p.safety_evaluable]
    add("F10", 11, len(H)); add("F11", 20, len(NH))
    for (a, b, c, d, col, ph, pp, nh_, pn) in (("F12", "F13", "F14", "F15", "vod", 5, 45.5, 2, 10),
                                              ("F16", "F17", "F18", "F19", "liver", 4, 36.4, 8, 40),
                                              ("F20", "F21", "F22", "F23", "haem", 9, 81.8, 19, 95)):
        k1, k2 = int(H[col].sum()), int(NH[col].sum())
        add(a, ph, k1); add(b, pp, pct(k1, len(H), 1)); add(c, nh_, k2); add(d, pn, pct(k2, len(NH), 0))
    for (a, b, line, pn, pp, nd) in (("F24", "F25", 1, 2, 20, 0), ("F26", "F27", 2, 3, 16.8, 1), ("F28", "F29", 3, 2, 50, 0)):
        k = int((p.vod & (p.salvage_line == line)).sum()); n = int((p.salvage_line == line).sum())
        add(a, pn, k); add(b, pp, pct(k, n, nd))
    for (a, b, col, pn, pp, nd) in (("F30", "F31", "thrombo", 27, 84.8, 1), ("F32", "F33", "neutro", 20, 62.5, 1),
                                    ("F34", "F35", "fn", 14, 43.7, 1), ("F36", "F37", "ast", 9, 28.1, 1),
                                    ("F38", "F39", "alt", 6, 18.8, 1), ("F40", "F41", "bili", 8, 25, 0)):
        k = int(p[col].sum()); add(a, pn, k); add(b, pp, pct(k, N, nd))

    dead = p[p.os_event == 1]
    cc = dead.cause.value_counts()
    for i, (cause, pn, pp) in enumerate((("progression of disease", 4, 23.5), ("relapse", 6, 35.3),
                                         ("septic shock", 2, 11.8), ("VOD-related multi-organ failure", 1, 5.9),
                                         ("VOD pneumonia", 1, 5.9), ("CNS relapse", 1, 5.9), ("not mentioned", 2, 11.8))):
        k = int(cc.get(cause, 0))
        add(f"G{2 * i + 1:02d}", pn, k); add(f"G{2 * i + 2:02d}", pp, pct(k, nd_, 1))
    add("G15", 60.8, pct(cc.get("progression of disease", 0) + cc.get("relapse", 0), nd_, 1))
    vd = dead[dead.cause.astype(str).str.startswith("VOD")]
    add("G16", "2 of 2", f"{int(vd.hsct.sum())} of {len(vd)}")
    out = pd.DataFrame(T)
    assert len(out) == 169 and out.id.is_unique, len(out)
    return out
