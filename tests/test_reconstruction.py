"""Tests for the reconstructed default cohort (data/reconstruction).

(a) the solver reproduces cohort_facts.csv byte-for-byte;
(b) clinical/temporal consistency of the expanded events;
(c) an independent pandas + lifelines oracle recomputes the key published figures.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from data.reconstruction import solve
from data.reconstruction.expand import EVENT_COLUMNS, PATIENT_COLUMNS, reconstructed_tables

M = 30.4375


def half_up(x, nd=0):
    q = 10 ** nd
    return float(np.floor(x * q + 0.5 + 1e-9) / q)


@pytest.fixture(scope="module")
def tables():
    return reconstructed_tables()


@pytest.fixture(scope="module")
def pts(tables):
    return tables[0]


@pytest.fixture(scope="module")
def ev(tables):
    e = tables[1].copy()
    e["event_date"] = pd.to_datetime(e["event_date"])
    return e


# ---------------------------------------------------------------- (a) reproducibility
def test_solver_reproduces_facts_file():
    df = solve.build_facts(verify=False)  # the mirror is checked in its own test
    assert solve.facts_to_csv_text(df) == solve.FACTS_CSV.read_text()


def test_numpy_mirror_matches_lifelines():
    solve.verify_mirror(25, seed=123)


def test_schema_columns_and_meta(tables):
    p, e, meta = tables
    assert list(p.columns) == PATIENT_COLUMNS
    assert list(e.columns) == EVENT_COLUMNS
    kv = dict(zip(meta.key, meta.value))
    assert kv["reconstructed"] == "true"
    assert kv["screened_identified"] == "50"
    assert "not real patient" in kv["disclaimer"].lower()
    assert kv["label"] and kv["source"]
    assert p.patient_id.is_unique and len(p) == 32
    assert set(e.patient_id) <= set(p.patient_id)
    assert e.event_date.notna().all() or set(e[e.event_date.isna()].event_type) <= {"response", "mrd"}


def test_fits_duckdb_schema(tables):
    duckdb = pytest.importorskip("duckdb")
    from pathlib import Path

    p, e, meta = tables
    con = duckdb.connect()
    con.execute(Path(solve.HERE.parent / "schema.sql").read_text())
    con.register("p_df", p); con.register("e_df", e); con.register("m_df", meta)
    con.execute("INSERT INTO patients SELECT * FROM p_df")
    con.execute("INSERT INTO events SELECT * FROM e_df")
    con.execute("INSERT INTO study_meta SELECT * FROM m_df")
    assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == 32


# ---------------------------------------------------------------- (b) consistency
def test_event_dates_within_window(pts, ev):
    p = pts.set_index("patient_id")
    for pid, g in ev.dropna(subset=["event_date"]).groupby("patient_id"):
        start, cut = pd.Timestamp(p.at[pid, "ino_start_date"]), pd.Timestamp(p.at[pid, "data_cutoff_date"])
        assert (g.event_date >= start).all() and (g.event_date <= cut).all(), pid


def test_nothing_after_death_and_last_contact(pts, ev):
    dead = set(ev[ev.event_type == "death"].patient_id)
    for pid in pts.patient_id:
        g = ev[ev.patient_id == pid].dropna(subset=["event_date"])
        lc = g[g.event_type == "last_contact"]
        d = g[g.event_type == "death"]
        if pid in dead:
            assert len(d) == 1 and len(lc) == 0
            assert (g.event_date <= d.event_date.iloc[0]).all(), pid
        else:
            assert len(lc) == 1, pid
            assert lc.followup_status.iloc[0] in ("alive at cut-off", "lost to follow-up")
            assert (g.event_date <= lc.event_date.iloc[0]).all(), pid


def test_hsct_relapse_response_order(ev):
    for pid, g in ev.groupby("patient_id"):
        doses = g[g.event_type == "ino_dose"]
        hs = g[g.event_type == "hsct"]
        if len(hs):
            assert hs.event_date.min() > doses.event_date.max(), pid
        rel = g[g.event_type == "relapse"]
        crs = g[(g.event_type == "response") & g.response.isin(["CR", "CRi"])]
        if len(rel):
            first_cr = crs.event_date.min()
            assert pd.notna(first_cr) and rel.event_date.min() > first_cr, pid
        d1 = doses[doses.cycle_day == 1].set_index("cycle").event_date
        for _, r in g[g.event_type.isin(["response", "mrd"])].dropna(subset=["event_date"]).iterrows():
            assert r.event_date > d1[r.cycle], (pid, r.cycle)
            if r.event_type == "response" and r.cycle + 1 in d1.index:
                assert r.event_date <= d1[r.cycle + 1], (pid, r.cycle)


def test_dose_days_and_cycle_gaps(pts, ev):
    doses = ev[ev.event_type == "ino_dose"]
    for pid, g in doses.groupby("patient_id"):
        d1 = g[g.cycle_day == 1].sort_values("cycle")
        assert list(d1.cycle) == list(range(1, len(d1) + 1))
        gaps = d1.event_date.diff().dropna().dt.days
        assert gaps.between(21, 28).all(), pid
        for _, r in g.iterrows():
            assert r.cycle_day in (1, 8, 15)
            base = d1[d1.cycle == r.cycle].event_date.iloc[0]
            assert (r.event_date - base).days == r.cycle_day - 1
    c1d1 = doses[(doses.cycle == 1) & (doses.cycle_day == 1)].groupby("patient_id").event_date.min()
    assert (c1d1.min().year, c1d1.min().month) == (2017, 2)
    assert (c1d1.max().year, c1d1.max().month) == (2022, 10)
    assert doses.event_date.min() >= pd.Timestamp("2017-02-01")
    assert doses.event_date.max() <= pd.Timestamp("2022-10-31")
    p = pts.set_index("patient_id")
    for pid, s in c1d1.items():
        assert pd.Timestamp(p.at[pid, "ino_start_date"]) == s
        assert pd.Timestamp(p.at[pid, "data_cutoff_date"]) >= s + pd.DateOffset(months=6)


def test_response_labs_consistent(ev):
    r = ev[ev.event_type == "response"]
    assert r[["marrow_blast_pct", "platelets_10e9_l", "anc_10e9_l", "emd_present"]].notna().all().all()
    cr = r[r.response == "CR"]
    assert ((cr.marrow_blast_pct <= 5) & ~cr.emd_present.astype(bool) & (cr.platelets_10e9_l > 100) & (cr.anc_10e9_l > 1)).all()
    cri = r[r.response == "CRi"]
    assert ((cri.marrow_blast_pct <= 5) & ~cri.emd_present.astype(bool)
            & ((cri.platelets_10e9_l < 100) | (cri.anc_10e9_l < 1))).all()
    nr = r[r.response == "NR"]
    assert ((nr.marrow_blast_pct > 5) | nr.emd_present.astype(bool)).all()


def test_ae_and_baseline_rules(pts, ev):
    ae = ev[ev.event_type == "adverse_event"]
    haem = ae[ae.ae_term.isin(["thrombocytopenia", "neutropenia", "febrile neutropenia"])]
    assert haem.ae_grade.between(3, 4).all()
    liver = ae[ae.ae_term.isin(["AST increased", "ALT increased", "bilirubin increased"])]
    assert (liver.ae_grade <= 2).any()
    ne = pts[~pts.safety_evaluable].patient_id
    assert len(ne) == 1 and not ae.patient_id.isin(ne).any()
    assert ((pts.ph_status == "Ph+") == (pts.prior_tki_count >= 1)).all()
    assert (pts.cd22_pct > 0).all() and (pts.blast_pct != 50).all()
    assert set(pts.data_cutoff_date.astype(str)) == {"2023-03-08", "2023-05-15", "2023-07-10", "2023-08-21", "2023-10-16"}


# ---------------------------------------------------------------- (c) independent oracle
@pytest.fixture(scope="module")
def oracle(pts, ev):
    p = pts.set_index("patient_id").copy()
    start = pd.to_datetime(p.ino_start_date)
    death = ev[ev.event_type == "death"].set_index("patient_id")
    last = ev[ev.event_type == "last_contact"].set_index("patient_id")
    rel = ev[ev.event_type == "relapse"].groupby("patient_id").event_date.min()
    resp = ev[ev.event_type == "response"]
    firstcr = resp[resp.response.isin(["CR", "CRi"])].sort_values("cycle").groupby("patient_id").first()
    end = death.event_date.reindex(p.index).fillna(last.event_date.reindex(p.index))
    p["os_t"] = (end - start).dt.days / M
    p["os_e"] = p.index.isin(death.index).astype(int)
    p["resp"] = p.index.isin(firstcr.index)
    stop = pd.concat([rel.reindex(p.index), death.event_date.reindex(p.index)], axis=1).min(axis=1)
    p["rfs_e"] = stop.notna().astype(int)
    p["rfs_t"] = (stop.fillna(last.event_date.reindex(p.index)) - start).dt.days / M
    p["dor_t"] = (stop.fillna(last.event_date.reindex(p.index)) - firstcr.event_date.reindex(p.index)).dt.days / M
    p["first"] = firstcr.response.reindex(p.index)
    p["rcycle"] = firstcr.cycle.reindex(p.index)
    p["rdate"] = firstcr.event_date.reindex(p.index)
    p["cause"] = death.cause.reindex(p.index)
    p["hsct"] = p.index.isin(ev[ev.event_type == "hsct"].patient_id)
    p["status"] = last.followup_status.reindex(p.index)
    return p


def km_fit(t, e):
    f = KaplanMeierFitter().fit(t, e)
    ci = median_survival_times(f.confidence_interval_)
    return f, ci.iloc[0, 0], ci.iloc[0, 1]


def test_os_figures(oracle):
    f, lo, hi = km_fit(oracle.os_t, oracle.os_e)
    assert half_up(100 * f.survival_function_at_times(6.0).iloc[0], 1) == 46.9
    assert half_up(100 * f.survival_function_at_times(12.0).iloc[0], 1) == 28.1
    assert half_up(f.median_survival_time_, 1) == 6.0
    assert half_up(lo, 1) == 4.5 and half_up(hi, 1) == 7.5
    assert oracle.os_e.sum() == 17
    assert (oracle.os_t >= 12.0).sum() == 4           # E08: published 9, unattainable (C02)
    ltf = oracle[(oracle.os_e == 0) & (oracle.status == "lost to follow-up")]
    assert (ltf.os_t <= 6.0).sum() == 6               # E16: published 5, unattainable (C02)
    assert ((ltf.os_t > 6.0) & (ltf.os_t <= 12.0)).sum() == 5
    old = oracle[oracle.age_years > 65]
    fo = KaplanMeierFitter().fit(old.os_t, old.os_e)
    assert len(old) == 2
    assert half_up(100 * fo.survival_function_at_times(6.0).iloc[0]) == 50
    assert half_up(100 * fo.survival_function_at_times(12.0).iloc[0]) == 50


def test_rfs_and_dor_figures(oracle):
    r = oracle[oracle.resp]
    f, lo, hi = km_fit(r.rfs_t, r.rfs_e)
    assert (half_up(f.median_survival_time_, 1), half_up(lo, 1), half_up(hi, 1)) == (7.0, 6.1, 8.9)
    dated = r[r.rdate.notna()]
    assert len(dated) == 17
    fd = KaplanMeierFitter().fit(dated.dor_t, dated.rfs_e)
    assert half_up(fd.median_survival_time_) == 6


def test_response_mrd_hsct_counts(oracle, ev):
    r = oracle[oracle.resp]
    assert len(r) == 19 and (r["first"] == "CR").sum() == 18 and (r["first"] == "CRi").sum() == 1
    assert oracle.index.isin(ev[ev.event_type == "response"].patient_id).sum() == 31
    assert r.rcycle.median() == 2 and (r.rcycle.min(), r.rcycle.max()) == (1, 6)
    assert r.groupby("salvage_line").size().to_dict() == {1: 6, 2: 11, 3: 2}
    assert ((r.blast_pct < 50).sum(), (r.blast_pct > 50).sum()) == (10, 9)
    mrd = ev[ev.event_type == "mrd"]
    neg = mrd[mrd.mrd == "negative"]
    assert r.index.isin(neg.patient_id).sum() == 18
    assert r[r["first"] == "CRi"].index.isin(neg.patient_id).all()
    deep = [pid for pid, x in r.iterrows()
            if ((neg.patient_id == pid) & ((neg.event_date == x.rdate) if pd.notna(x.rdate)
                                          else (neg.event_date.isna() & (neg.cycle == x.rcycle)))).any()]
    assert len(deep) == 13 and r.loc[deep].rcycle.median() == 2
    assert oracle.hsct.sum() == 11 and r.hsct.sum() == 9
    ncyc = ev[ev.event_type == "ino_dose"].groupby("patient_id").cycle.max()
    assert (ncyc.reindex(r[r.hsct].index) == 1).sum() == 6
    assert ncyc.value_counts().to_dict() == {1: 15, 2: 8, 3: 5, 4: 2, 6: 2}


def test_ae_and_cause_counts(oracle, ev):
    ae = ev[ev.event_type == "adverse_event"]
    pats = lambda m: set(ae[m].patient_id)
    thr, neu, fn = pats(ae.ae_term == "thrombocytopenia"), pats(ae.ae_term == "neutropenia"), pats(ae.ae_term == "febrile neutropenia")
    ast = pats((ae.ae_term == "AST increased") & (ae.ae_grade >= 3))
    alt = pats((ae.ae_term == "ALT increased") & (ae.ae_grade >= 3))
    bil = pats((ae.ae_term == "bilirubin increased") & (ae.ae_grade >= 3))
    vod = pats(ae.ae_term == "VOD")
    haem, liver = thr | neu | fn, ast | alt | bil
    assert (len(thr), len(neu), len(fn), len(haem)) == (27, 20, 14, 28)
    assert (len(ast), len(alt), len(bil), len(liver)) == (9, 6, 8, 12)
    assert len(vod) == 7
    h = set(oracle[oracle.hsct].index)
    nh = set(oracle[~oracle.hsct & oracle.safety_evaluable].index)
    assert (len(h), len(nh)) == (11, 20)
    assert (len(vod & h), len(liver & h), len(haem & h)) == (5, 4, 9)
    assert (len(vod & nh), len(liver & nh), len(haem & nh)) == (2, 8, 19)
    hs = ev[ev.event_type == "hsct"].groupby("patient_id").event_date.min()
    vfirst = ae[ae.ae_term == "VOD"].groupby("patient_id").event_date.min()
    assert sum(vfirst[pid] >= hs[pid] for pid in vfirst.index if pid in hs.index) == 5
    assert oracle.loc[sorted(vod)].salvage_line.value_counts().to_dict() == {1: 2, 2: 3, 3: 2}
    causes = oracle.cause.value_counts().to_dict()
    assert causes == {"relapse": 6, "progression of disease": 4, "septic shock": 2, "not mentioned": 2,
                      "VOD-related multi-organ failure": 1, "VOD pneumonia": 1, "CNS relapse": 1}
    vd = oracle[oracle.cause.astype(str).str.startswith("VOD")]
    assert vd.hsct.all()


def test_baseline_counts(oracle):
    a = oracle.age_years
    assert half_up(a.median(), 2) == 37.41 and half_up(a.mean(), 2) == 37.41
    assert half_up(a.std(ddof=1), 2) == 15.16 and a.min() == 18.52
    assert (a > 65).sum() == 2 and a.between(18, 65).sum() == 30
    assert (oracle.sex == "F").sum() == 11 and (oracle.disease_status == "refractory").sum() == 4
    assert oracle.salvage_line.value_counts().to_dict() == {2: 18, 1: 10, 3: 4}
    assert ((oracle.blast_pct < 50).sum(), (oracle.blast_pct > 50).sum()) == (16, 16)
    emd = oracle[oracle.emd_baseline]
    assert len(emd) == 2 and (emd.resp & emd.hsct).sum() == 1 and (~emd.resp).sum() == 1
    assert oracle.centre.nunique() == 5


def test_cycle1_dose_groups(ev):
    d = ev[(ev.event_type == "ino_dose") & (ev.cycle == 1)]
    tot = d.groupby("patient_id").dose_mg_m2.sum()
    std = (tot - 1.8).abs() <= 0.005
    assert (std.sum(), (tot < 1.795).sum(), (tot > 1.805).sum()) == (12, 17, 3)
    for pid in tot[std].index:
        g = d[d.patient_id == pid].sort_values("cycle_day")
        assert list(zip(g.cycle_day, g.dose_mg_m2)) == [(1, 0.8), (8, 0.5), (15, 0.5)]


def test_paper_check_158_of_169(tables):
    from data.reconstruction.paper_check import check_all

    res = check_all(tables[0], tables[1])
    assert len(res) == 169 and res.match.sum() == 158
    assert set(res[~res.match].id) == {"E08", "E16", "A22", "F31", "F35", "F27", "F03", "G15", "M10", "M11", "E18"}
