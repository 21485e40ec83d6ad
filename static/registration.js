// LTI Dynamic Registration: tell the platform the registration window may close
// (the `org.imsglobal.lti.close` postMessage), to the window that opened it.
(function () {
  "use strict";
  var section = document.querySelector("[data-registration]");
  var button = document.getElementById("close-registration");
  if (!section || !button) { return; }
  var origin = section.getAttribute("data-target-origin") || "*";
  var subject = section.getAttribute("data-close-message");
  button.addEventListener("click", function () {
    var platform = window.opener || (window.parent !== window ? window.parent : null);
    if (platform) {
      platform.postMessage({ subject: subject }, origin);
    } else {
      window.close();
    }
  });
}());
