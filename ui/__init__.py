"""The dashboard layer: the only code besides app.py and pages/ that imports streamlit.

`ui.url_state` is the exception: it converts URL query parameters to and from a FilterSpec and
is pure Python, so it can be tested without a running app.
"""
