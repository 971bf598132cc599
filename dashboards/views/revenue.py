"""Revenue (admins only): payments and refunds by track and month."""

import streamlit as st

from dashboards import charts, context, data, ui

ctx = context.current()
if not ctx.viewer.is_admin:  # the page is not in a trainer's navigation; refuse anyway
    st.error("Revenue is for admins (403).")
    st.stop()
st.title("Revenue")
frame = data.revenue(ctx.scope)
st.caption(
    f"Months from {ctx.scope.start:%Y-%m} to {ctx.scope.end:%Y-%m}; "
    "refunds count in the month they were refunded."
)
if frame.empty:
    st.info("No payments in these months.")
    st.stop()
currencies = sorted(frame["currency"].unique())
currency = (
    st.radio("Currency", currencies, horizontal=True) if len(currencies) > 1 else currencies[0]
)
shown = frame[frame["currency"] == currency]
cells = st.columns(4)
cells[0].metric(f"Paid ({currency.upper()})", ui.number(shown["amount"].sum(), 2))
cells[1].metric(f"Refunded ({currency.upper()})", ui.number(shown["refunded_amount"].sum(), 2))
cells[2].metric(f"Net ({currency.upper()})", ui.number(shown["net_amount"].sum(), 2))
cells[3].metric("Pending payments", ui.number(shown["pending"].sum()))
st.vega_lite_chart(spec=charts.revenue(shown), width="stretch")
ui.table(
    frame,
    "revenue",
    month=st.column_config.DateColumn(format="YYYY-MM"),
    amount=ui.number_column("paid", 2),
    refunded_amount=ui.number_column("refunded", 2),
    net_amount=ui.number_column("net", 2),
)
