// Theme and Teams context for every tab page. No inline script anywhere: the CSP allows only our files.
(function () {
  "use strict";

  var THEMES = ["default", "dark", "contrast"];
  var TEAMS_TIMEOUT_MS = 1500;
  var SIGNIN_MARK = "trellis.signin-at";
  // A deep link's sub-page is one of our own pages (see trellis.app.plan_link), never another site.
  var OWN_PAGE = /^\/tabs\/[a-z0-9_-]+(\/[a-z0-9_-]+)*$/;

  function applyTheme(name) {
    if (THEMES.indexOf(name) < 0) name = "default";
    THEMES.forEach(function (theme) {
      document.body.classList.toggle("theme-" + theme, theme === name);
    });
  }

  // Teams names its themes "default", "dark" and "contrast"; older clients may send others.
  function fromTeams(theme) {
    return theme === "dark" || theme === "contrast" ? theme : "default";
  }

  var requested = new URLSearchParams(window.location.search).get("theme");
  var queries = {
    contrast: window.matchMedia("(forced-colors: active), (prefers-contrast: more)"),
    dark: window.matchMedia("(prefers-color-scheme: dark)"),
  };
  var inTeams = false;

  function browserTheme() {
    if (queries.contrast.matches) return "contrast";
    return queries.dark.matches ? "dark" : "default";
  }

  function followBrowser() {
    if (!inTeams && THEMES.indexOf(requested) < 0) applyTheme(browserTheme());
  }

  // Resolves true inside a Microsoft 365 host, false in a plain browser (within ~1.5 s either way).
  function connectToTeams() {
    var sdk = window.microsoftTeams;
    if (!sdk || !sdk.app) return Promise.resolve(false);
    var timeout = new Promise(function (resolve) {
      window.setTimeout(resolve, TEAMS_TIMEOUT_MS, false);
    });
    var init = sdk.app.initialize().then(
      function () { return true; },
      function () { return false; }
    );
    return Promise.race([init, timeout]).then(function (connected) {
      if (!connected) return false;
      inTeams = true;
      sdk.app.getContext().then(
        function (context) {
          applyTheme(fromTeams(context.app && context.app.theme));
          followDeepLink(context.page && context.page.subPageId);
        },
        function () { /* keep the current theme */ }
      );
      sdk.app.registerOnThemeChangeHandler(function (theme) { applyTheme(fromTeams(theme)); });
      if (sdk.app.notifySuccess) sdk.app.notifySuccess();
      return true;
    });
  }

  // A deep link opens a static tab with a sub-page (a chat button to someone's development plan): when
  // Teams loads the tab's page, go to the sub-page. Teams keeps the sub-page in the context for the tab's
  // life, so a page reached by a link within Trellis stays where it is: its referrer is one of our pages
  // (the Referrer-Policy of tabs/security.py sends same-origin referrers in full).
  function followDeepLink(subPage) {
    if (!subPage || !OWN_PAGE.test(subPage) || window.location.pathname === subPage) return;
    var within = document.referrer.indexOf(window.location.origin + "/") === 0;
    if (!within) window.location.assign(subPage);
  }

  if (THEMES.indexOf(requested) >= 0) applyTheme(requested);
  else followBrowser();
  queries.contrast.addEventListener("change", followBrowser);
  queries.dark.addEventListener("change", followBrowser);

  // A signed-in page means the session cookie stuck: forget the sign-in loop guard (see signin.js).
  if (document.body.dataset.signedIn === "true") {
    try { window.sessionStorage.removeItem(SIGNIN_MARK); } catch (e) { /* storage blocked */ }
  }

  window.trellis = { teams: connectToTeams(), applyTheme: applyTheme, signinMark: SIGNIN_MARK };
})();
