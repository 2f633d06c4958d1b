// The network page refreshes itself in place: every few seconds it fetches
// its own body (/fragment, rendered and escaped by the node) and swaps it
// in. A failed fetch is shown on the page, never thrown.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var main = document.getElementById("status");
  if (!live || !main) {
    return;
  }
  var every = parseInt(live.getAttribute("data-refresh-ms"), 10) || 2000;
  var busy = false;
  function stamp() {
    return new Date().toISOString().replace("T", " ").replace(/\..*/, " UTC");
  }
  function refresh() {
    if (busy) {
      return;
    }
    busy = true;
    fetch("/fragment", { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.text();
      })
      .then(function (html) {
        main.innerHTML = html;
        live.textContent = "live · updated " + stamp();
        live.className = "";
      })
      .catch(function (e) {
        live.textContent = "node not answering (" + e.message + "); retrying · last update kept";
        live.className = "stale";
      })
      .then(function () {
        busy = false;
      });
  }
  setInterval(refresh, every);
})();
