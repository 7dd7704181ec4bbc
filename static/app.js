// Small enhancements; every page works without them. Served from static/: the CSP allows no
// inline script. Event delegation, so regions swapped in by htmx work as well.
(function () {
  "use strict";

  function copyText(text, button) {
    const done = function () {
      const label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.getAttribute("data-copy"));
    if (source) copyText(source.value !== undefined ? source.value : source.textContent, button);
  });

  // A chosen .json file goes into the editor, where it is checked like typed text; the file
  // input is cleared so that the editor stays the one source of what is submitted.
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-load-into]")) return;
    const file = input.files && input.files[0];
    const area = document.querySelector(input.getAttribute("data-load-into"));
    if (!file || !area) return;
    file.text().then(function (text) {
      area.value = text;
      input.value = "";
      area.dispatchEvent(new Event("input", { bubbles: true }));
      if (area.form) area.form.dispatchEvent(new CustomEvent("blueprint-loaded"));
    });
  });

  // Tab indents in the blueprint editor instead of leaving it (Shift+Tab still leaves).
  document.addEventListener("keydown", function (event) {
    const area = event.target;
    if (event.key !== "Tab" || event.shiftKey || !area.matches || !area.matches("textarea.editor")) return;
    event.preventDefault();
    const start = area.selectionStart;
    area.setRangeText("  ", start, area.selectionEnd, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
