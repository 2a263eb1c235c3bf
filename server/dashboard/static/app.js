// Postern dashboard: the only script. Asks for confirmation before
// destructive forms (data-confirm). Pages work without it.
"use strict";
document.addEventListener("submit", function (ev) {
  var msg = ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
