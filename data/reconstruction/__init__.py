"""Reconstructed default cohort (InO in R/R B-ALL, 5 Indian centres).

The rows are *reconstructed* from the published aggregates; they are not real patient data.
`solve.py` regenerates `cohort_facts.csv`; `expand.py` turns the facts into the
`patients` / `events` / `study_meta` tables of the data contract.
"""
