"""Literature: the published figures the cohort is compared with, Table 9 checked against its sources,
the discrepancies with their evidence, and comparable slices of the cohort per study."""

import streamlit as st

from ui import frame, literature_view

view = frame.current_view()
frame.page_header("Literature", view, intro="Published figures of the paper's Table 9 studies and of INO-VATE, "
                  "each with its source. Published, not randomised against this cohort; populations differ.")

st.subheader("Published figures")
literature_view.reference_section(view)

st.divider()
st.subheader("Table 9 as printed and as its sources support")
literature_view.table9_section(view)

st.divider()
st.subheader("Discrepancies between the paper and its sources")
literature_view.discrepancies_section(view)

st.divider()
st.subheader("Comparable slices")
st.caption("A study's eligibility applied to this cohort as far as its columns allow: what is applied, what "
           "cannot be and why, and the study's figures beside the slice's.")
literature_view.comparable_slices_section(view)
