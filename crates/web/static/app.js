// Atrium's only script: CSRF header for htmx requests and confirmation prompts.
// No inline scripts anywhere (CSP script-src 'self').
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var token = document.body.getAttribute("data-csrf");
    if (token) { e.detail.headers["X-CSRF-Token"] = token; }
  });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  }, true);
})();
