// Live updates (Server-Sent Events from /api/v1/events, filtered by the server's access
// rules). An event carries ids only; when it concerns what this page shows (the <main>
// element's data-live: "project:<id> task:<id>"), the page's main part is fetched again
// through the normal, access-checked page route. Unread notification badge likewise.
(function () {
  "use strict";
  if (!window.EventSource || !document.body.hasAttribute("data-live-events")) { return; }
  // From the moment the page was rendered: what changed in between is sent first.
  var since = document.body.getAttribute("data-live-since");
  var source = new EventSource("/api/v1/events" + (/^[0-9]+$/.test(since || "") ? "?since=" + since : ""));
  var timer = null;

  function watched() {
    var main = document.getElementById("main");
    return main ? (main.getAttribute("data-live") || "").split(" ").filter(Boolean) : [];
  }

  function concerns(data) {
    var w = watched();
    return (data.project_id && w.indexOf("project:" + data.project_id) >= 0) ||
      (data.task_id && w.indexOf("task:" + data.task_id) >= 0) ||
      (data.ticket_id && (w.indexOf("ticket:" + data.ticket_id) >= 0 || w.indexOf("tickets") >= 0));
  }

  // Someone typing keeps their text: offer a refresh instead of replacing the page.
  function busy(main) {
    var el = document.activeElement;
    if (el && main.contains(el) && (el.tagName === "TEXTAREA" || el.tagName === "INPUT") && el.value) { return true; }
    var open = main.querySelectorAll("textarea");
    for (var i = 0; i < open.length; i++) { if (open[i].value && open[i].defaultValue !== open[i].value) { return true; } }
    return false;
  }

  // Screen readers hear about what changed through the polite live region outside <main>.
  function announce(text) {
    var region = document.getElementById("live-status");
    if (!region) { return; }
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  }

  function refresh() {
    var main = document.getElementById("main");
    if (!main) { return; }
    if (busy(main)) {
      if (!document.getElementById("live-stale")) {
        var b = document.createElement("p");
        b.id = "live-stale";
        b.className = "flash";
        b.setAttribute("role", "status");
        var a = document.createElement("a");
        a.href = window.location.href;
        a.textContent = "New activity — refresh";
        b.appendChild(a);
        main.insertBefore(b, main.firstChild);
        announce("New activity on this page. Refresh to see it.");
      }
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!next) { return; }
        main.innerHTML = next.innerHTML;
        main.setAttribute("data-live", next.getAttribute("data-live") || "");
        if (window.htmx) { window.htmx.process(main); }
        document.body.dispatchEvent(new CustomEvent("atrium:refreshed"));
        announce("Updated with new activity.");
      })
      .catch(function () {});
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 120);
  }

  ["task.created", "task.updated", "comment.created", "message.created", "message.updated",
    "message.deleted", "message.read", "ticket.created", "ticket.updated", "ticket.commented"].forEach(function (kind) {
    source.addEventListener(kind, function (e) {
      try { if (concerns(JSON.parse(e.data))) { schedule(); } } catch (err) { /* ignore */ }
    });
  });
  source.addEventListener("notification.created", function () {
    document.body.dispatchEvent(new CustomEvent("atrium:notify"));
    announce("New notification.");
  });
  source.addEventListener("reload", schedule);
})();
