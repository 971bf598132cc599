// Quiz authoring, progressive enhancement only: while Gemini writes a quiz (it can take a
// minute), the generate form shows that it is working and for how long. Without JavaScript
// the form posts the same way and the browser shows the page loading.
(() => {
  const form = document.getElementById("generate-form");
  const progress = document.getElementById("generate-progress");
  if (!form || !progress) return;
  form.addEventListener("submit", () => {
    const started = performance.now();
    const show = () => {
      const seconds = Math.round((performance.now() - started) / 1000);
      progress.textContent = `Gemini is writing your quiz… ${seconds} s`;
    };
    progress.hidden = false;
    form.setAttribute("aria-busy", "true");
    show();
    // Announce the start once; then update the text quietly every second.
    setTimeout(() => progress.setAttribute("aria-live", "off"), 1500);
    setInterval(show, 1000);
  });
})();
