-- The cohort data contract (see README "Data contract"). Every cohort the product reads,
-- the reconstructed default and any imported one, is a DuckDB file with these tables.
-- Durations are never stored: every endpoint is derived from the dated events.

CREATE TABLE IF NOT EXISTS patients (
    patient_id        VARCHAR PRIMARY KEY,
    centre            VARCHAR NOT NULL,
    sex               VARCHAR NOT NULL CHECK (sex IN ('F', 'M')),
    age_years         DOUBLE  NOT NULL CHECK (age_years >= 18),
    ph_status         VARCHAR CHECK (ph_status IN ('Ph+', 'Ph-')),
    prior_tki_count   INTEGER CHECK (prior_tki_count >= 0),
    cd22_pct          DOUBLE  CHECK (cd22_pct BETWEEN 0 AND 100),
    disease_status    VARCHAR NOT NULL CHECK (disease_status IN ('relapsed', 'refractory')),
    salvage_line      INTEGER NOT NULL CHECK (salvage_line >= 1),
    blast_pct         DOUBLE  CHECK (blast_pct BETWEEN 0 AND 100),
    emd_baseline      BOOLEAN,
    ino_start_date    DATE    NOT NULL,
    data_cutoff_date  DATE    NOT NULL,
    safety_evaluable  BOOLEAN NOT NULL DEFAULT TRUE,
    CHECK (data_cutoff_date >= ino_start_date)
);

CREATE TABLE IF NOT EXISTS events (
    patient_id        VARCHAR NOT NULL REFERENCES patients (patient_id),
    event_date        DATE,
    event_type        VARCHAR NOT NULL,
    cycle             INTEGER,
    cycle_day         INTEGER,
    dose_mg_m2        DOUBLE,
    response          VARCHAR CHECK (response IN ('CR', 'CRi', 'NR')),
    marrow_blast_pct  DOUBLE,
    platelets_10e9_l  DOUBLE,
    anc_10e9_l        DOUBLE,
    emd_present       BOOLEAN,
    mrd               VARCHAR CHECK (mrd IN ('negative', 'positive')),
    ae_term           VARCHAR,
    ae_grade          INTEGER CHECK (ae_grade BETWEEN 1 AND 5),
    cause             VARCHAR,
    followup_status   VARCHAR CHECK (followup_status IN ('alive at cut-off', 'lost to follow-up')),
    relapse_site      VARCHAR,
    detail            VARCHAR,
    -- only response and mrd rows may lack a date (assessment known by cycle, date not recorded)
    CHECK (event_date IS NOT NULL OR event_type IN ('response', 'mrd'))
);

CREATE TABLE IF NOT EXISTS study_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
