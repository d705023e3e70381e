// The people picker of the succession forms: as a name is typed, the directory search the Home tab uses
// (GET /tabs/api/people, with the Teams SSO token inside Teams, the session cookie outside) fills the
// field's datalist with matching people, by email address (what the server resolves exactly). Without
// script, or when the search is unavailable, the field still takes a typed email address or full name.
(function () {
  "use strict";

  var fields = document.querySelectorAll("input[data-people-picker]");
  if (!fields.length || !window.trellis) return;

  var DELAY_MS = 250;
  var TOKEN_TIMEOUT_MS = 20000;

  async function ssoToken() {
    if (!(await window.trellis.teams)) return null;
    return Promise.race([
      window.microsoftTeams.authentication.getAuthToken(),
      new Promise(function (resolve) { window.setTimeout(resolve, TOKEN_TIMEOUT_MS, null); }),
    ]);
  }

  async function search(query) {
    var headers = { Accept: "application/json" };
    try {
      var token = await ssoToken();
      if (token) headers.Authorization = "Bearer " + token;
    } catch (e) { /* no token: the cookie goes along */ }
    var response = await fetch("/tabs/api/people?" + new URLSearchParams({ q: query }), {
      headers: headers, credentials: "same-origin",
    });
    if (!response.ok) return [];
    var body = await response.json();
    return Array.isArray(body) ? body : [];
  }

  function fill(list, people) {
    list.textContent = "";
    people.forEach(function (person) {
      var value = person.mail || person.displayName;
      if (!value) return;
      var option = document.createElement("option");
      option.value = value;
      option.label = [person.displayName, person.jobTitle].filter(Boolean).join(" · ");
      list.appendChild(option);
    });
  }

  fields.forEach(function (input) {
    var list = input.list;
    if (!list) return;
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      var query = input.value.trim();
      window.clearTimeout(timer);
      // Picking a suggestion puts its email address in the box: nothing more to search.
      if (query.length < 2 || query.indexOf("@") >= 0 || query === asked) return;
      timer = window.setTimeout(function () {
        asked = query;
        search(query).then(
          function (people) { if (input.value.trim() === query) fill(list, people); },
          function () { /* the search failed: typing the full name or email still works */ }
        );
      }, DELAY_MS);
    });
  });
})();
