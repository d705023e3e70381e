// Teams single sign-on: get an Entra token from Teams and exchange it for the session cookie.
// Every path ends in the signed-in page, a message, or an error with "Try again": never an endless spinner.
(function () {
  "use strict";

  var root = document.getElementById("sso");
  if (!root || !window.trellis) return;

  var TOKEN_TIMEOUT_MS = 20000;
  var LOOP_WINDOW_MS = 30000;
  var el = function (id) { return document.getElementById(id); };
  var status = el("sso-status");
  var statusText = el("sso-status-text");
  var outside = el("sso-outside");
  var errorBox = el("sso-error");
  var errorText = el("sso-error-text");
  var start = el("sso-start");
  var next = root.dataset.next || "/tabs/home";
  var mark = window.trellis.signinMark;

  function busy(text) {
    errorBox.hidden = true;
    start.hidden = true;
    statusText.textContent = text;
    status.hidden = false;
  }

  function fail(text) {
    status.hidden = true;
    errorText.textContent = text;
    errorBox.hidden = false;
    el("sso-retry").focus();
  }

  function withTimeout(promise, ms, message) {
    return Promise.race([
      promise,
      new Promise(function (_, reject) {
        window.setTimeout(reject, ms, new Error(message));
      }),
    ]);
  }

  function describe(error) {
    var text = error && (error.message || error.errorCode || String(error));
    return text ? String(text) : "unknown error";
  }

  function readMark() {
    try { return Number(window.sessionStorage.getItem(mark) || 0); } catch (e) { return 0; }
  }

  function writeMark(value) {
    try {
      if (value) window.sessionStorage.setItem(mark, String(value));
      else window.sessionStorage.removeItem(mark);
    } catch (e) { /* storage blocked: the loop guard is best effort */ }
  }

  async function exchange(token) {
    var response = await fetch("/tabs/session", {
      method: "POST",
      headers: { Authorization: "Bearer " + token, Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.status === 204) return null;
    var body = {};
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    return body.error || "the server answered " + response.status;
  }

  async function signIn() {
    busy("Connecting to Microsoft Teams…");
    if (!(await window.trellis.teams)) {
      status.hidden = true;
      outside.hidden = false;
      return;
    }
    busy("Signing you in…");
    var token;
    try {
      token = await withTimeout(
        window.microsoftTeams.authentication.getAuthToken(),
        TOKEN_TIMEOUT_MS,
        "Teams did not answer in time"
      );
    } catch (error) {
      fail("Teams could not sign you in (" + describe(error) + ").");
      return;
    }
    var problem;
    try {
      problem = await exchange(token);
    } catch (error) {
      fail("Trellis could not be reached. Check your connection.");
      return;
    }
    if (problem) {
      fail(problem.charAt(0).toUpperCase() + problem.slice(1) + ".");
      return;
    }
    writeMark(Date.now());
    window.location.replace(next);
  }

  function retry() {
    writeMark(0);
    signIn();
  }

  el("sso-retry").addEventListener("click", retry);
  start.addEventListener("click", retry);

  // Back here moments after a successful exchange: the browser dropped the cookie (third-party cookies
  // blocked). Say so instead of signing in again and again.
  if (Date.now() - readMark() < LOOP_WINDOW_MS) {
    fail("You were signed in, but your browser did not keep Trellis's session cookie. " +
      "Allow cookies for this site, then try again.");
  } else if (root.dataset.auto === "on") {
    signIn();
  } else {
    window.trellis.teams.then(function (connected) {
      if (!connected) outside.hidden = false;
      start.hidden = !connected;
    });
  }
})();
