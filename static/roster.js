// Roster: small progressive enhancements. No inline script (CSP), no external requests.
(function () {
  "use strict";
  // Confirm dangerous buttons: <button data-confirm="...">
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  // Copy buttons: <button data-copy="input-id"> copies that input's value and says so
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(input.id + "-status");
    var said = function (text) { if (status) { status.textContent = text; } };
    input.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(
        function () { said("Copied."); },
        function () { said("Selected: press Ctrl+C (Cmd+C on a Mac) to copy."); });
    } else {
      said(document.execCommand && document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C (Cmd+C on a Mac) to copy.");
    }
  });
  // Patient pickers: <input data-patient-lookup="URL" list="ID"> offers matching patients as you type
  var lookups = {};
  document.addEventListener("input", function (event) {
    var input = event.target.closest && event.target.closest("[data-patient-lookup]");
    if (!input) { return; }
    var q = input.value.trim();
    var list = document.getElementById(input.getAttribute("list"));
    if (!list || q.length < 2) { return; }
    clearTimeout(lookups[input.id]);
    lookups[input.id] = setTimeout(function () {
      fetch(input.getAttribute("data-patient-lookup") + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (patients) {
          list.textContent = "";
          patients.forEach(function (p) {
            var option = document.createElement("option");
            option.value = p.mrn;
            option.label = p.name + (p.dob ? " (born " + p.dob + ")" : "");
            option.textContent = option.label;
            list.appendChild(option);
          });
        });
    }, 200);
  });
  // Print buttons: <button data-print>
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
})();
