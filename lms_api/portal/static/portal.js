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
