// Launches without third-party cookies (LTI Client Side postMessage Storage).
// The login page stores the login's secret in the platform's storage frame before going on
// to the platform; the resume page reads it back and finishes the launch, posts the launch
// again to Skillpath's own origin when it is a window of its own, or offers a new window.
(function () {
  "use strict";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function messageId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // The window holding the platform's storage: the frame it named in our parent (or in the
  // window that opened us), or that window itself for "_parent".
  function storageWindow(target) {
    var home = window.parent !== window ? window.parent : window.opener;
    if (!home) { return null; }
    if (target === "_parent") { return home; }
    try { return home.frames[target] || null; } catch (e) { return null; }
  }

  // One postMessage to the platform's storage and its answer, within `wait` ms. The message
  // is sent again every quarter second until answered: the storage frame may still be
  // loading when the first one leaves (storing the same value twice changes nothing).
  function ask(target, origin, message, wait) {
    return new Promise(function (resolve, reject) {
      if (!origin || !storageWindow(target)) { reject(new Error("no storage frame")); return; }
      var id = messageId();
      message.message_id = id;
      function send() {
        var frame = storageWindow(target);
        if (frame) { frame.postMessage(message, origin); }
      }
      var again = window.setInterval(send, 250);
      var timer = window.setTimeout(function () { done(); reject(new Error("the platform's storage did not answer")); }, wait);
      function listen(event) {
        var answer = event.data;
        if (event.origin !== origin || !answer || answer.message_id !== id) { return; }
        if (answer.subject !== message.subject + ".response") { return; }
        done();
        if (answer.error) { reject(new Error(answer.error.message || answer.error.code || "storage error")); }
        else { resolve(answer); }
      }
      function done() {
        window.clearTimeout(timer);
        window.clearInterval(again);
        window.removeEventListener("message", listen);
      }
      window.addEventListener("message", listen);
      send();
    });
  }

  function show(id) {
    var node = document.getElementById(id);
    if (node) { node.classList.remove("hidden"); }
  }

  var login = data("lti-login");
  if (login) {
    var go = function () { window.location.replace(login.auth_url); };
    ask(login.target, login.platform_origin,
        { subject: login.put_subject, key: login.key, value: login.value }, 2000).then(go, go);
    return;
  }

  var resume = data("lti-resume");
  if (!resume) { return; }
  var framed = window.top !== window.self;

  function fallback(reason) {
    var node = document.getElementById("fallback-reason");
    if (node && reason) { node.textContent = reason; }
    show("fallback");
    var waiting = document.getElementById("waiting");
    if (waiting) { waiting.classList.add("hidden"); }
  }

  function bounceOrFallback(reason) {
    if (!framed && !resume.bounced) { document.getElementById("bounce").submit(); }
    else { fallback(reason); }
  }

  if (resume.storage_target) {
    ask(resume.storage_target, resume.platform_origin, { subject: resume.get_subject, key: resume.key }, 3000)
      .then(function (answer) {
        return fetch(resume.resume_url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-Skillpath-Resume": "1" },
          body: JSON.stringify({ id_token: resume.id_token, state: resume.state, proof: String(answer.value || "") })
        });
      })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok || !body.location) { throw new Error(body.message || "the launch could not be finished"); }
          window.location.replace(body.location);
        });
      })
      .catch(function (error) { bounceOrFallback(error.message); });
  } else {
    bounceOrFallback("");
  }
}());
