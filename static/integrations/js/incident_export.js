// Incident export with progress: fetch the CSV as a stream, count its rows
// against X-Export-Total, then offer the file. Without this file (or fetch
// streams) the form simply downloads the CSV.
(function () {
  "use strict";
  var form = document.getElementById("export-form");
  if (!form || !window.fetch || !window.ReadableStream || !window.URLSearchParams) {
    return;
  }
  var status = document.getElementById("export-status");
  var progress = document.getElementById("export-progress");
  var text = document.getElementById("export-text");
  var save = document.getElementById("export-save");
  var submit = document.getElementById("export-submit");
  var MARKER = "# export incomplete";
  var busy = false;
  var lastUrl = null;

  function filenameOf(response) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : "incidents.csv";
  }

  function show(rows, total) {
    progress.max = Math.max(total, 1);
    progress.value = Math.min(rows, progress.max);
    text.textContent = rows + " " + form.dataset.progressText + " " + total;
  }

  function fail() {
    progress.removeAttribute("value");
    text.textContent = form.dataset.failedText;
  }

  // Rows end with CRLF (Python's csv module); the header row is not counted.
  function countRows(chunk) {
    var count = 0;
    for (var i = 1; i < chunk.length; i++) {
      if (chunk[i] === 10 && chunk[i - 1] === 13) {
        count++;
      }
    }
    return count;
  }

  function offer(blob, filename) {
    if (lastUrl) {
      URL.revokeObjectURL(lastUrl);
    }
    lastUrl = URL.createObjectURL(blob);
    save.href = lastUrl;
    save.download = filename;
    save.textContent = form.dataset.saveText + " (" + filename + ")";
    save.hidden = false;
    save.click();
  }

  async function run(url) {
    var response = await fetch(url, { credentials: "same-origin" });
    var type = response.headers.get("Content-Type") || "";
    if (!response.ok || type.indexOf("text/csv") !== 0) {
      // Planning failed or the form was refused: let the server's page say why.
      window.location.assign(url);
      return;
    }
    var total = parseInt(response.headers.get("X-Export-Total") || "0", 10);
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var parts = [];
    var rows = -1;
    var tail = "";
    show(0, total);
    for (;;) {
      var step = await reader.read();
      if (step.done) {
        break;
      }
      parts.push(step.value);
      rows += countRows(step.value);
      show(Math.max(rows, 0), total);
      // The marker may straddle two network chunks: keep a rolling tail.
      tail = (tail + decoder.decode(step.value, { stream: true })).slice(-400);
    }
    if (tail.indexOf(MARKER) !== -1) {
      fail();
      return;
    }
    rows = Math.max(rows, 0);
    progress.max = Math.max(rows, 1);
    progress.value = progress.max;
    text.textContent = form.dataset.doneText + " " + rows + " / " + total;
    offer(new Blob(parts, { type: "text/csv" }), filenameOf(response));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    submit.disabled = true;
    save.hidden = true;
    status.hidden = false;
    var url = form.action + "?" + new URLSearchParams(new FormData(form)).toString();
    run(url)
      .catch(fail)
      .then(function () {
        busy = false;
        submit.disabled = false;
      });
  });
})();
