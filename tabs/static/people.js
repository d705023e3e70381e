// "Find a colleague" on the Home tab: GET /tabs/api/people as the signed-in user.
// In Teams the tab's SSO token goes along (Authorization: Bearer) and the server searches Microsoft Graph
// on the user's behalf; when Entra says consent is missing, a prompt offers Teams' authentication window.
// Outside Teams the session cookie is sent (developer sign-in searches the local directory).
(function () {
  "use strict";

  var root = document.getElementById("people");
  if (!root || !window.trellis) return;

  var TOKEN_TIMEOUT_MS = 20000;
  var el = function (id) { return document.getElementById(id); };
  var form = el("people-form");
  var input = el("people-q");
  var status = el("people-status");
  var results = el("people-results");
  var consent = el("people-consent");
  var consentText = el("people-consent-text");
  var consentButton = el("people-consent-button");
  var consentAdmin = el("people-consent-admin");
  var pendingConsent = null;
  var lastQuery = "";

  function say(text) { status.textContent = text; }

  function withTimeout(promise, ms, message) {
    return Promise.race([
      promise,
      new Promise(function (_, reject) { window.setTimeout(reject, ms, new Error(message)); }),
    ]);
  }

  function describe(error) {
    var text = error && (error.message || error.errorCode || String(error));
    return text ? String(text) : "unknown error";
  }

  async function ssoToken() {
    if (!(await window.trellis.teams)) return null;
    return withTimeout(
      window.microsoftTeams.authentication.getAuthToken(), TOKEN_TIMEOUT_MS, "Teams did not answer in time"
    );
  }

  function show(people) {
    results.textContent = "";
    people.forEach(function (person) {
      var item = document.createElement("li");
      item.className = "list__item";
      var name = document.createElement("span");
      name.className = "person__name";
      name.textContent = person.displayName || "(no name)";
      item.appendChild(name);
      var details = [person.jobTitle, person.mail].filter(Boolean).join(" · ");
      if (details) {
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = " " + details;
        item.appendChild(meta);
      }
      results.appendChild(item);
    });
    results.hidden = people.length === 0;
    say(people.length ? people.length + (people.length === 1 ? " person found." : " people found.")
      : "No one matches “" + lastQuery + "”.");
  }

  async function askForConsent(body) {
    var inTeams = await window.trellis.teams;
    pendingConsent = body;
    consentText.textContent = body.message;
    consentButton.hidden = !inTeams;
    consentAdmin.hidden = inTeams;
    consentAdmin.textContent = inTeams ? "" : "Open Trellis in Microsoft Teams to give permission. " + body.adminHint;
    results.hidden = true;
    say("");
    consent.hidden = false;
    if (inTeams) consentButton.focus();
  }

  async function giveConsent() {
    if (!pendingConsent) return;
    var sdk = window.microsoftTeams;
    var url = new URL(pendingConsent.consentUrl, window.location.origin);
    try {
      var context = await sdk.app.getContext();
      if (context && context.user && context.user.loginHint) url.searchParams.set("login_hint", context.user.loginHint);
    } catch (e) { /* no hint: Entra asks which account */ }
    consentButton.disabled = true;
    try {
      await sdk.authentication.authenticate({ url: url.href, width: 600, height: 535 });
    } catch (error) {
      consentButton.disabled = false;
      consentAdmin.hidden = false;
      consentAdmin.textContent = "Permission was not given (" + describe(error) + "). " + pendingConsent.adminHint;
      return;
    }
    consentButton.disabled = false;
    consent.hidden = true;
    pendingConsent = null;
    search(lastQuery);
  }

  async function search(query) {
    lastQuery = query;
    consent.hidden = true;
    say("Searching…");
    var headers = { Accept: "application/json" };
    try {
      var token = await ssoToken();
      if (token) headers.Authorization = "Bearer " + token;
    } catch (error) {
      say("Teams could not sign you in (" + describe(error) + ").");
      return;
    }
    var response;
    try {
      response = await fetch("/tabs/api/people?" + new URLSearchParams({ q: query }), {
        headers: headers, credentials: "same-origin",
      });
    } catch (error) {
      say("Trellis could not be reached. Check your connection.");
      return;
    }
    var body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    if (response.ok && Array.isArray(body)) { show(body); return; }
    if (response.status === 403 && body && body.error === "consent_required") { await askForConsent(body); return; }
    results.hidden = true;
    var problem = (body && body.error) || "the server answered " + response.status;
    say(problem.charAt(0).toUpperCase() + problem.slice(1) + ".");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var query = input.value.trim();
    if (query.length < 2) { say("Type at least 2 characters of a name."); return; }
    search(query);
  });
  consentButton.addEventListener("click", giveConsent);
})();
