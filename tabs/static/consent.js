// The end of the consent window opened by teams-js authentication.authenticate(): report the outcome to
// the tab that opened it (which then retries its search). In a plain browser the page just says so.
(function () {
  "use strict";

  var root = document.getElementById("consent-end");
  if (!root || !window.trellis) return;
  var failed = root.dataset.outcome === "failure";

  window.trellis.teams.then(function (connected) {
    if (!connected) return;
    var auth = window.microsoftTeams.authentication;
    if (failed) auth.notifyFailure(root.dataset.reason || "consent_failed");
    else auth.notifySuccess("consented");
  });
})();
