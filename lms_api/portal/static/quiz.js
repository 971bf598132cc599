// Taking a quiz: autosave of each answer and the countdown to the server's deadline.
// Progressive enhancement: without JavaScript, "Save answers" posts the whole form and the
// remaining time is shown as text by the server.
(() => {
  const form = document.getElementById("quiz-form");
  if (!form) return;
  const csrf = document.body.dataset.csrf || "";
  const pending = new Map(); // question id -> promise of the save in flight

  function status(fieldset, text) {
    const line = document.getElementById(`status-${fieldset.dataset.question}`);
    if (line) line.textContent = text;
  }

  function chosen(fieldset) {
    return Array.from(fieldset.querySelectorAll("input:checked"), (input) => Number(input.value));
  }

  function updateCount() {
    const line = document.getElementById("answered-count");
    if (!line || form.querySelector("input[name=q]")) return; // one question at a time
    const all = form.querySelectorAll("fieldset[data-question]");
    const done = Array.from(all).filter((f) => chosen(f).length > 0).length;
    line.textContent = `${done} of ${all.length} questions answered.`;
  }

  async function send(fieldset) {
    status(fieldset, "Saving…");
    let response;
    try {
      response = await fetch(fieldset.dataset.saveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": csrf,
        },
        body: JSON.stringify({ option_ids: chosen(fieldset) }),
      });
    } catch (error) {
      status(fieldset, "Not saved: no connection to the server. Your choice is still on this page; press \"Save answers\" to try again.");
      return;
    }
    if (response.ok) {
      status(fieldset, "Saved");
      return;
    }
    let reason = `the server answered ${response.status}.`;
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) reason = body.error.message;
    } catch (error) {
      if (response.status === 403) reason = "this page has expired; reload it.";
      if (response.status === 401) reason = "your sign-in expired; reload the page.";
    }
    status(fieldset, `Not saved: ${reason}`);
    if (response.status === 409) timeUp();
  }

  form.addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset[data-question]");
    if (!fieldset || !fieldset.dataset.saveUrl) return;
    updateCount();
    status(fieldset, "Saving…");
    // One save at a time per question, each sending the choice as it is when it starts.
    const id = fieldset.dataset.question;
    const previous = pending.get(id) || Promise.resolve();
    const next = previous.then(() => send(fieldset));
    pending.set(id, next);
  });

  // --- countdown ---
  const clock = document.getElementById("countdown");
  const text = document.getElementById("countdown-text");
  const announce = document.getElementById("countdown-announce");
  let finished = false;

  function timeUp() {
    if (finished) return;
    finished = true;
    const box = document.getElementById("time-up");
    if (box) box.hidden = false;
    if (text) text.textContent = "0 s";
    // Disabled inputs are not sent: submitting now just grades what the server has saved.
    for (const input of form.querySelectorAll("fieldset input")) input.disabled = true;
    const save = document.getElementById("save-answers");
    if (save) save.hidden = true;
    const submit = document.getElementById("submit-attempt");
    if (submit) {
      submit.textContent = "See my result";
      submit.focus();
    }
  }

  if (clock && text) {
    // Count from the server's seconds left, not the device's clock (it may be wrong).
    const secondsLeft = Number(clock.dataset.secondsLeft);
    const end = performance.now() + secondsLeft * 1000;
    const said = new Set();
    const tick = () => {
      const left = Math.max(0, Math.round((end - performance.now()) / 1000));
      const minutes = Math.floor(left / 60);
      const seconds = left % 60;
      text.textContent = minutes ? `${minutes} min ${seconds} s` : `${seconds} s`;
      clock.classList.toggle("warning", left <= 60);
      for (const mark of [300, 60]) {
        if (left <= mark && left > 0 && !said.has(mark) && secondsLeft > mark && announce) {
          said.add(mark);
          announce.textContent = `${mark / 60} minute${mark > 60 ? "s" : ""} left.`;
        }
      }
      if (left <= 0) {
        timeUp();
        return;
      }
      setTimeout(tick, 1000);
    };
    tick();
  }
})();
