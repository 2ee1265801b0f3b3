// Follows a bulk action while the server runs it: asks its state every two seconds and
// updates the figures in place (the region is aria-live), then reloads the page once, when
// the action is over, to show every dossier's result. Without JavaScript, the page's
// « Actualiser » link does the same by hand. No inline script: the page only names this file.
(function () {
  "use strict";
  var zone = document.querySelector("[data-suivi]");
  if (!zone) {
    return;
  }
  var url = zone.getAttribute("data-suivi");
  function plural(count, word) {
    return count + " " + word + (count > 1 ? "s" : "");
  }
  function set(name, text) {
    var node = zone.querySelector("[data-" + name + "]");
    if (node) {
      node.textContent = text;
    }
  }
  function tick() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (batch) {
        if (!batch) {
          window.setTimeout(tick, 5000);
          return;
        }
        var handled = batch.done + batch.refused;
        set("traites", plural(handled, "dossier") + " " + (handled > 1 ? "traités" : "traité") +
          " sur " + batch.total);
        set("faits", String(batch.done));
        set("refuses", String(batch.refused));
        set("attente", String(batch.pending));
        var bar = zone.querySelector("progress");
        if (bar) {
          bar.value = handled;
        }
        if (batch.status === "terminee") {
          window.location.reload();
          return;
        }
        window.setTimeout(tick, 2000);
      })
      .catch(function () {
        window.setTimeout(tick, 5000);
      });
  }
  window.setTimeout(tick, 2000);
})();
