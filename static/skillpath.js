/* Skillpath's pages: a few behaviours on top of server-rendered HTML and htmx.
 * - every htmx request carries the launch's session token (Authorization: Bearer);
 * - the LMS frame is told the page's height (lti.frameResize) on load and on every change;
 * - coming back from a lesson opened in another tab refreshes the path once;
 * - updates are announced to screen readers, and errors shown in words.
 * No inline script, no eval: it runs under a strict Content-Security-Policy. */
(function () {
  "use strict";
  var body = document.body;
  var announce = document.getElementById("announce");
  var lastHeight = 0;

  function say(text) {
    if (announce) { announce.textContent = ""; window.setTimeout(function () { announce.textContent = text; }, 50); }
  }

  function frameResize() {
    if (window.parent === window) { return; }
    // The content's height, not the document's: a frame taller than its content would
    // otherwise report its own height back and never shrink (or grow without end).
    var height = Math.ceil(body.getBoundingClientRect().height);
    if (height === lastHeight) { return; }
    lastHeight = height;
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, "*");
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = body.getAttribute("data-session");
    if (token) { event.detail.headers.Authorization = "Bearer " + token; }
  });
  document.addEventListener("htmx:afterSwap", function () {
    say((announce && announce.getAttribute("data-updated")) || "Updated.");
    frameResize();
  });
  document.addEventListener("htmx:responseError", function (event) {
    var text = "";
    try { text = JSON.parse(event.detail.xhr.responseText).message; } catch (e) { text = ""; }
    if (!text) {
      var doc = new DOMParser().parseFromString(event.detail.xhr.responseText || "", "text/html");
      var found = doc.querySelector(".error-message");
      text = found ? found.textContent : ((announce && announce.getAttribute("data-failed")) || "Something went wrong.");
    }
    var box = document.getElementById("action-error");
    if (!box) {
      box = document.createElement("p");
      box.id = "action-error";
      box.className = "notice error-inline";
      box.setAttribute("role", "alert");
      document.getElementById("main").prepend(box);
    }
    box.textContent = text;
    frameResize();
  });

  var opened = false;
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-opens-lesson]") : null;
    if (link) { opened = true; }
  });
  function backFromLesson() {
    if (opened && document.visibilityState === "visible") {
      opened = false;
      body.dispatchEvent(new CustomEvent("skillpath:returned", { bubbles: true }));
    }
  }
  document.addEventListener("visibilitychange", backFromLesson);
  window.addEventListener("focus", backFromLesson);

  window.addEventListener("load", frameResize);
  if (window.ResizeObserver) { new ResizeObserver(frameResize).observe(body); }
  frameResize();
})();
