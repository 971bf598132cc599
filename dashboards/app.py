"""Entry point: `streamlit run dashboards/app.py` (behind the hub gateway)."""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="ApraNova dashboards", layout="wide")
navigation = st.navigation(
    [st.Page(str(PAGES / "enrollments.py"), title="Enrollments", icon=":material/school:")]
)
navigation.run()
