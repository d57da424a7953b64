// Exports page: follow each queued or running background job and reload when one finishes.
(function () {
  "use strict";
  var rows = document.querySelectorAll("tr.job[data-job-url]");
  if (!rows.length) { return; }
  function poll() {
    var pending = 0, finished = false, left = rows.length;
    rows.forEach(function (row) {
      fetch(row.getAttribute("data-job-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          row.querySelector(".job-status").textContent = job.status;
          row.querySelector(".job-message").textContent = job.message;
          var bar = row.querySelector("progress");
          bar.value = job.progress;
          bar.textContent = job.progress + "%";
          if (job.status === "done" || job.status === "failed") { finished = true; } else { pending += 1; }
        })
        .catch(function () { pending += 1; })
        .finally(function () {
          left -= 1;
          if (left > 0) { return; }
          if (finished) { window.location.reload(); } else if (pending) { window.setTimeout(poll, 1500); }
        });
    });
  }
  window.setTimeout(poll, 1000);
})();
