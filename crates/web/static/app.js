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

// Reading a conversation: once its page is shown, the script tells the server with a POST
// (opening, prefetching or embedding a page never changes anything on the server).
(function () {
  "use strict";
  var sent = {};
  function markRead() {
    if (document.visibilityState !== "visible") { return; }
    var el = document.querySelector("[data-read-url]");
    if (!el) { return; }
    var url = el.getAttribute("data-read-url"), upTo = el.getAttribute("data-read-up-to");
    if (!upTo || sent[url] === upTo) { return; }
    sent[url] = upTo;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": document.body.getAttribute("data-csrf") || "" },
      body: JSON.stringify({ up_to: upTo })
    }).then(function (r) { if (!r.ok) { sent[url] = null; } }).catch(function () { sent[url] = null; });
  }
  document.addEventListener("DOMContentLoaded", markRead);
  document.addEventListener("visibilitychange", markRead);
  document.body.addEventListener("atrium:refreshed", markRead);
})();

// @mention autocomplete for textareas with data-mention-src (the people who can see the
// thing, from the API). Picking someone inserts "@[Name]", which the server resolves.
(function () {
  "use strict";
  var lists = {};
  function people(src) {
    if (!lists[src]) {
      lists[src] = fetch(src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (j) { return j.items || []; })
        .catch(function () { return []; });
    }
    return lists[src];
  }
  function query(ta) {
    var before = ta.value.slice(0, ta.selectionStart);
    var m = /(^|\s)@([^\s@\[\]]{0,30})$/.exec(before);
    return m ? m[2] : null;
  }
  function close(ta) {
    var box = ta._mentionBox;
    if (box) { box.remove(); ta._mentionBox = null; }
  }
  function pick(ta, name) {
    var pos = ta.selectionStart;
    var before = ta.value.slice(0, pos).replace(/@([^\s@\[\]]{0,30})$/, "@[" + name + "] ");
    ta.value = before + ta.value.slice(pos);
    ta.selectionStart = ta.selectionEnd = before.length;
    close(ta);
    ta.focus();
  }
  function show(ta, items) {
    close(ta);
    if (!items.length) { return; }
    var box = document.createElement("ul");
    box.className = "mentions";
    box.setAttribute("role", "listbox");
    items.slice(0, 8).forEach(function (p, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.textContent = p.name + (p.staff ? "" : "");
      if (i === 0) { li.setAttribute("aria-selected", "true"); }
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(ta, p.name); });
      box.appendChild(li);
    });
    ta.insertAdjacentElement("afterend", box);
    ta._mentionBox = box;
  }
  document.addEventListener("input", function (e) {
    var ta = e.target;
    if (!ta.matches || !ta.matches("textarea[data-mention-src]")) { return; }
    var q = query(ta);
    if (q === null) { close(ta); return; }
    people(ta.getAttribute("data-mention-src")).then(function (all) {
      var needle = q.toLowerCase();
      show(ta, all.filter(function (p) {
        return p.name.toLowerCase().split(/\s+/).some(function (w) { return w.indexOf(needle) === 0; }) ||
          p.name.toLowerCase().indexOf(needle) === 0;
      }));
    });
  });
  document.addEventListener("keydown", function (e) {
    var ta = e.target;
    var box = ta && ta._mentionBox;
    if (!box) { return; }
    var opts = Array.prototype.slice.call(box.children);
    var cur = opts.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      var next = (cur + (e.key === "ArrowDown" ? 1 : opts.length - 1)) % opts.length;
      opts.forEach(function (o, i) { o.setAttribute("aria-selected", i === next ? "true" : "false"); });
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      pick(ta, opts[Math.max(cur, 0)].textContent);
    } else if (e.key === "Escape") {
      close(ta);
    }
  });
  document.addEventListener("focusout", function (e) {
    if (e.target && e.target._mentionBox) { setTimeout(function () { close(e.target); }, 150); }
  });
})();

// File uploads with progress, several at once, by picking or dropping files. Each file goes to
// the JSON API on its own request (cookie + CSRF header); the page reloads when all are done.
// Without JavaScript the form still posts (one file per submit).
(function () {
  "use strict";
  function row(list, name) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var status = document.createElement("span");
    status.className = "muted small";
    li.appendChild(label);
    li.appendChild(bar);
    li.appendChild(status);
    list.appendChild(li);
    return { bar: bar, status: status };
  }
  function send(form, file) {
    return new Promise(function (resolve) {
      var ui = row(form.querySelector(".uploads"), file.name);
      var data = new FormData();
      var folder = form.querySelector('input[name="folder_id"]');
      if (folder && folder.value) { data.append("folder_id", folder.value); }
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-upload"));
      xhr.setRequestHeader("X-CSRF-Token", document.body.getAttribute("data-csrf") || "");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { ui.bar.value = Math.round((e.loaded / e.total) * 100); }
      });
      xhr.addEventListener("load", function () {
        var ok = xhr.status >= 200 && xhr.status < 300;
        ui.bar.value = ok ? 100 : ui.bar.value;
        var msg = "Uploaded";
        if (!ok) {
          try { msg = JSON.parse(xhr.responseText).error.message; } catch (err) { msg = "Failed (" + xhr.status + ")"; }
        }
        ui.status.textContent = msg;
        resolve(ok);
      });
      xhr.addEventListener("error", function () { ui.status.textContent = "Network error"; resolve(false); });
      xhr.send(data);
    });
  }
  function uploadAll(form, files) {
    var list = Array.prototype.slice.call(files);
    if (!list.length) { return; }
    Promise.all(list.map(function (f) { return send(form, f); })).then(function (results) {
      if (results.every(Boolean)) { window.location.reload(); }
    });
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-upload") || !window.FormData) { return; }
    e.preventDefault();
    uploadAll(form, form.querySelector('input[type="file"]').files);
  });
  ["dragover", "dragenter"].forEach(function (t) {
    document.addEventListener(t, function (e) {
      var zone = e.target.closest && e.target.closest("[data-upload]");
      if (zone) { e.preventDefault(); zone.classList.add("dragging"); }
    });
  });
  ["dragleave", "drop"].forEach(function (t) {
    document.addEventListener(t, function (e) {
      var zone = e.target.closest && e.target.closest("[data-upload]");
      if (!zone) { return; }
      zone.classList.remove("dragging");
      if (t === "drop") { e.preventDefault(); uploadAll(zone, e.dataTransfer.files); }
    });
  });
})();

// The header's Menu disclosure (phones; wide screens show its contents inline by CSS): Escape
// closes an open menu and returns focus to its button.
(function () {
  "use strict";
  var menu = document.querySelector("details.menu");
  if (!menu) { return; }
  document.addEventListener("keydown", function (e) {
    var button = menu.querySelector("summary");
    if (e.key === "Escape" && menu.open && button.offsetParent && menu.contains(document.activeElement)) {
      menu.open = false;
      button.focus();
    }
  });
})();

// "Insert saved reply" in a staff composer: the list is shown only when this script runs; the
// chosen reply's text goes into the form's text box at the cursor, to be edited before sending.
(function () {
  "use strict";
  function show() {
    document.querySelectorAll("[data-saved-replies][hidden]").forEach(function (el) { el.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", show);
  document.body.addEventListener("atrium:refreshed", show);
  document.addEventListener("change", function (e) {
    var sel = e.target;
    if (!sel.matches || !sel.matches("select[data-insert-reply]")) { return; }
    var opt = sel.options[sel.selectedIndex];
    var text = opt ? opt.getAttribute("data-body") : null;
    var form = sel.closest("form");
    var ta = form ? form.querySelector("textarea[name=body]") : null;
    sel.selectedIndex = 0;
    if (!text || !ta) { return; }
    var start = ta.selectionStart, end = ta.selectionEnd;
    ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
    ta.selectionStart = ta.selectionEnd = start + text.length;
    ta.focus();
  });
})();
