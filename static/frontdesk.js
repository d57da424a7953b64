// Front desk: walk-in results as you type, arrow keys through them, focus after a check-in,
// and one submit per button (the server never records twice anyway). Everything works without it.
(function () {
  "use strict";

  // A URL with #cg-... makes the browser skip autofocus, and its scroll to the row clears focus:
  // once the page has loaded, focus the element the server asked for.
  function focusRequested() {
    var target = document.querySelector("[autofocus]");
    if (target && document.activeElement !== target) { target.focus(); }
  }

  // A double tap sends one POST; the flag is cleared when the page comes back from the history cache.
  function submitOnce() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute("data-once")) { return; }
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form[data-sent]").forEach(function (form) {
        form.removeAttribute("data-sent");
      });
    });
  }

  function walkInSearch(form) {
    var input = form.querySelector("input[type=search]");
    var results = document.getElementById(form.getAttribute("data-results"));
    var status = document.getElementById(form.getAttribute("data-status"));
    var timer = null;
    var latest = 0;

    function buttons() {
      return Array.prototype.slice.call(results.querySelectorAll("button"));
    }

    function show(html, ticket) {
      if (ticket !== latest) { return; }  // an older answer arriving late
      results.innerHTML = html;
      var summary = results.querySelector("[data-summary]");
      status.textContent = summary ? summary.getAttribute("data-summary") : "";
    }

    function search() {
      var query = input.value.trim();
      var ticket = ++latest;
      if (query.length < 2) { show("", ticket); return; }
      fetch(form.getAttribute("data-url") + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin", headers: { "Accept": "text/html" }
      })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) { show(html, ticket); })
        .catch(function () {
          if (ticket === latest) { status.textContent = "Live search is not available: press Enter to search."; }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      var all = buttons();
      if (event.key === "ArrowDown" && all.length) {
        event.preventDefault();
        all[0].focus();
      }
    });
    results.addEventListener("keydown", function (event) {
      var all = buttons();
      var i = all.indexOf(document.activeElement);
      if (i < 0) { return; }
      if (event.key === "ArrowDown" && i < all.length - 1) {
        event.preventDefault();
        all[i + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (i > 0 ? all[i - 1] : input).focus();
      } else if (event.key === "Escape") {
        event.preventDefault();
        input.focus();
      }
    });
  }

  window.addEventListener("load", focusRequested);
  submitOnce();
  document.querySelectorAll("form[data-walkin-search]").forEach(walkInSearch);
})();
