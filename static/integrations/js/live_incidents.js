// Live incident updates: poll the portal (never PagerDuty) for the changes its
// webhooks recorded, swap the status badges of the incidents on the page and,
// on the incident list, put new incidents matching its filters at the top
// (the portal sends their rows, escaped). Without this file the page's
// Refresh link still works.
(function () {
  "use strict";
  var root = document.getElementById("live-updates");
  if (!root || !window.fetch) {
    return;
  }
  var INTERVAL = 5000;
  var url = root.dataset.changesUrl;
  var since = root.dataset.since;
  var filter = root.dataset.filter || "";
  var note = document.getElementById("live-note");
  var timer = null;
  var busy = false;
  var stopped = false;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock() {
    var d = new Date();
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  // Return "updated", "same" (already shown) or "absent" (not on the page).
  function apply(change) {
    var holders = document.querySelectorAll("[data-incident-id]");
    var result = "absent";
    holders.forEach(function (holder) {
      if (holder.dataset.incidentId !== change.id) {
        return;
      }
      var badge = holder.hasAttribute("data-incident-status")
        ? holder
        : holder.querySelector("[data-incident-status]");
      if (!badge) {
        return;
      }
      if (badge.classList.contains("ws-status-" + change.status)) {
        result = result === "absent" ? "same" : result;
        return;
      }
      result = "updated";
      Array.prototype.slice.call(badge.classList).forEach(function (name) {
        if (name.indexOf("ws-status-") === 0) {
          badge.classList.remove(name);
        }
      });
      badge.classList.add("ws-status-" + change.status);
      badge.textContent = change.status_label;
    });
    return result;
  }

  // Put a new incident's row at the top of the list; return whether it was.
  function insert(change) {
    var table = document.getElementById("incident-table");
    if (!table || !change.row || document.getElementById("incident-" + change.id)) {
      return false;
    }
    var body = table.tBodies[0];
    body.insertAdjacentHTML("afterbegin", change.row);
    var row = document.getElementById("incident-" + change.id);
    if (row) {
      row.classList.add("ws-row-new");
    }
    ["incident-table-wrap", "bulk-bar"].forEach(function (id) {
      var element = document.getElementById(id);
      if (element) {
        element.hidden = false;
      }
    });
    var empty = document.getElementById("no-incidents");
    if (empty) {
      empty.hidden = true;
    }
    return true;
  }

  function show(changed, others, added) {
    var text = "";
    if (added) {
      text = root.dataset.newText + " " + clock();
    } else if (changed) {
      text = root.dataset.updatedText + " " + clock();
    }
    if (others) {
      text = (text ? text + ". " : "") + root.dataset.othersText;
    }
    if (text) {
      note.textContent = text;
    }
  }

  function poll() {
    timer = null;
    if (busy || stopped || document.hidden) {
      return;
    }
    busy = true;
    var query = new URLSearchParams(filter);
    query.set("since", since);
    fetch(url + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) {
          stopped = true; // signed out, lost access or disconnected
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) {
          return;
        }
        since = data.now;
        var changed = false;
        var others = false;
        var added = false;
        var table = document.getElementById("incident-table");
        data.changes.forEach(function (change) {
          var result = apply(change);
          if (result === "updated") {
            changed = true;
          } else if (result === "absent" && insert(change)) {
            added = true;
          } else if (result === "absent" && table && change.matches !== false) {
            others = true;
          }
        });
        show(changed, others, added);
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        schedule();
      });
  }

  function schedule() {
    if (!busy && !stopped && !document.hidden && timer === null) {
      timer = window.setTimeout(poll, INTERVAL);
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (timer !== null) {
        window.clearTimeout(timer);
        timer = null;
      }
    } else if (timer === null) {
      poll();
    }
  });
  schedule();
})();
