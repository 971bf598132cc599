"""Streamlit dashboards for trainers and admins; they read only the DuckDB marts."""
