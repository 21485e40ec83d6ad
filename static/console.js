// Opening the console from the LMS: when this page is a window of its own (not the LMS
// frame), go straight on to the console.
(function () {
  "use strict";
  var link = document.querySelector("a[data-open-console]");
  if (link && window.top === window.self) { window.location.replace(link.href); }
}());
