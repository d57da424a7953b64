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
  // Print buttons: <button data-print>
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
})();
