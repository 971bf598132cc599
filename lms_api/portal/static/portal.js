// Progressive enhancement only: every page works without JavaScript.
// A form acts once: its submit buttons are disabled after the first submit (double clicks).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.allowResubmit !== undefined) return;
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "1";
  for (const button of form.querySelectorAll("button[type=submit], button:not([type])")) {
    button.setAttribute("aria-disabled", "true");
    setTimeout(() => { button.disabled = true; }, 0);
  }
});

// A table wider than the screen scrolls in its wrapper: that wrapper takes keyboard focus (so
// arrow keys scroll it) and is named after its table's caption, only while it does scroll.
function markScrollingTables() {
  for (const wrapper of document.querySelectorAll(".table-responsive")) {
    if (wrapper.scrollWidth > wrapper.clientWidth) {
      const table = wrapper.querySelector("table");
      const caption = wrapper.querySelector("caption");
      const labelledBy = document.getElementById(table?.getAttribute("aria-labelledby") || "");
      const name = (caption || labelledBy)?.textContent.trim() || table?.getAttribute("aria-label");
      wrapper.setAttribute("tabindex", "0");
      wrapper.setAttribute("role", "region");
      wrapper.setAttribute("aria-label", name || "Table");
    } else if (wrapper.getAttribute("role") === "region") {
      wrapper.removeAttribute("tabindex");
      wrapper.removeAttribute("role");
      wrapper.removeAttribute("aria-label");
    }
  }
}
document.addEventListener("DOMContentLoaded", markScrollingTables);
window.addEventListener("resize", markScrollingTables);
