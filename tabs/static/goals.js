// Alignment: a collapsed node (a <details> with data-expand) loads the goals aligned to it when opened.
// Without JavaScript the node holds a link to a page focused on that goal, so nothing depends on this.
(function () {
  "use strict";

  function showError(details, slot) {
    var message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    message.textContent = "These goals could not be loaded. ";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button button--quiet";
    retry.textContent = "Try again";
    retry.addEventListener("click", function () {
      message.remove();
      load(details);
    });
    message.appendChild(retry);
    slot.prepend(message);
    retry.focus();
  }

  function load(details) {
    var slot = details.querySelector(":scope > .tree__lazy");
    if (!slot || details.dataset.state === "loading") return;
    details.dataset.state = "loading";
    slot.setAttribute("aria-busy", "true");
    var status = document.createElement("p");
    status.className = "meta";
    status.setAttribute("role", "status");
    status.textContent = "Loading…";
    slot.appendChild(status);
    fetch(details.dataset.expand, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        // The server escaped every value; a <template> parses the fragment without running anything.
        var template = document.createElement("template");
        template.innerHTML = html;
        slot.replaceWith(template.content);
        details.dataset.state = "loaded";
        details.removeAttribute("data-expand");
      })
      .catch(function () {
        status.remove();
        slot.removeAttribute("aria-busy");
        details.dataset.state = "failed";
        showError(details, slot);
      });
  }

  // "toggle" does not bubble; listening in the capture phase also covers nodes inserted later.
  document.addEventListener(
    "toggle",
    function (event) {
      var details = event.target;
      if (details instanceof HTMLDetailsElement && details.open && details.dataset.expand) load(details);
    },
    true
  );
})();
