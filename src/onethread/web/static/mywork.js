// My work: live updates without a reload. Polls GET /api/v1/me/work (the page's own sign-in
// cookie) every few seconds and redraws the lists; builds elements with textContent only.
(function () {
  "use strict";
  var section = document.getElementById("my-work");
  if (!section) { return; }
  var url = section.getAttribute("data-poll");
  var EVERY_MS = 5000;

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : ""; }
  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }
  function badge(text) {
    var b = document.createElement("strong");
    b.className = "badge";
    b.textContent = text;
    return b;
  }
  function fill(id, items, empty, render) {
    var list = document.getElementById(id);
    if (!list) { return; }
    var fresh = document.createDocumentFragment();
    if (!items.length) {
      var li = document.createElement("li");
      li.className = "muted";
      li.textContent = empty;
      fresh.appendChild(li);
    }
    items.forEach(function (item) {
      var row = document.createElement("li");
      render(row, item);
      fresh.appendChild(row);
    });
    list.replaceChildren(fresh);
  }
  function text(row, value) { row.appendChild(document.createTextNode(value)); }

  function draw(work) {
    var c = work.counts;
    document.getElementById("my-work-counts").textContent =
      plural(c.cases, "case") + " (" + c.unread + " unread, " + c.breached + " with a breach) · " +
      plural(c.handovers, "hand-over") + " offered · " + plural(c.approvals, "approval") + " waiting · " +
      plural(c.triage, "waiting contact") + " (" + c.triageMine + " handed to me) · presence: " + work.presence;
    fill("my-cases", work.cases, "No open cases.", function (row, k) {
      if (k.unread) { row.className = "unread"; row.appendChild(badge("new")); text(row, " "); }
      row.appendChild(link("/cases/" + k.id, k.title));
      text(row, " · " + k.customerName);
      if (k.nextDueAt) { text(row, " · " + k.nextDue + " due " + when(k.nextDueAt)); }
      if (k.breached) { text(row, " · "); row.appendChild(badge(k.breached + " breached")); }
    });
    fill("my-handovers", work.handovers, "None.", function (row, h) {
      row.appendChild(link("/cases/" + h.caseId, h.caseTitle));
      text(row, " · from " + (h.requestedByName || "onethread") + ": " + h.reason);
    });
    fill("my-approvals", work.approvals, "None.", function (row, a) {
      row.appendChild(link("/approvals/" + a.id, a.action.replace(/_/g, " ")));
      text(row, " · asked by " + a.requestedByName + ": " + a.reason);
    });
    fill("my-triage", work.triage, "Nothing waiting.", function (row, t) {
      if (t.mine) { row.appendChild(badge("mine")); text(row, " "); }
      text(row, t.channel + " · ");
      row.appendChild(t.customerId ? link("/customers/" + t.customerId, t.customerName)
                                   : link("/match-queue", "not matched yet"));
      text(row, " · " + (t.subject || t.text) + " · first response due " + when(t.dueAt));
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (work) { if (work) { draw(work); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { window.setTimeout(poll, EVERY_MS); });
  }
  window.setTimeout(poll, EVERY_MS);
}());
