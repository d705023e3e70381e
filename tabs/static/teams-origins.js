// Loaded just before teams-js. When it loads, teams-js fetches Microsoft's list of host origins from
// res.cdn.office.net. The tab CSP (connect-src 'self') forbids that request, and the list could not widen
// anything: frame-ancestors already fixes which hosts may embed the tabs. Refusing the request here keeps
// the browser from reporting a CSP violation and makes the SDK use the origin list it ships with.
(function () {
  "use strict";

  var CDN_ORIGIN_LIST = "https://res.cdn.office.net/teams-js/validDomains/";
  var nativeFetch = window.fetch.bind(window);

  window.fetch = function (resource, init) {
    var url = typeof resource === "string" ? resource : resource && (resource.href || resource.url);
    if (typeof url === "string" && url.indexOf(CDN_ORIGIN_LIST) === 0) {
      return Promise.reject(new TypeError("Trellis uses the origin list bundled with teams-js"));
    }
    return nativeFetch(resource, init);
  };
})();
