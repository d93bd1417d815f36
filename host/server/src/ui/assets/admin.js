// The admin's progressive enhancement. Every page and form works without
// it; with it, a count follows the form as it is filled and running work
// (a campaign sending, a catalogue uploading) updates itself. It fetches
// only the admin's own pages and swaps parts of them in by id, so the
// server stays the one place that renders.
(function () {
  "use strict";

  // Put the element with each id of `ids` from the page `html` in place of
  // this page's element with the same id.
  function swap(html, ids) {
    var next = new DOMParser().parseFromString(html, "text/html");
    ids.forEach(function (id) {
      var here = document.getElementById(id);
      var there = next.getElementById(id);
      if (here && there) {
        here.replaceWith(document.importNode(there, true));
      }
    });
  }

  // <form data-live="/path" data-live-target="id">: the form is posted to
  // /path a moment after each change, and the answer's #id shown here.
  document.querySelectorAll("form[data-live]").forEach(function (form) {
    var timer = null;
    var asked = 0;
    function ask() {
      var mine = ++asked;
      var body = new URLSearchParams(new FormData(form));
      fetch(form.dataset.live, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          // An older answer arriving late must not replace a newer one.
          if (mine === asked) {
            swap(html, [form.dataset.liveTarget]);
          }
        })
        .catch(function () { /* the button still counts without us */ });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 400);
    });
  });

  // <… data-refresh="ms" id="…">: while the page is open, the element is
  // fetched again every `ms` milliseconds; it stops once the fresh element
  // no longer asks to be refreshed (the work is done).
  document.querySelectorAll("[data-refresh][id]").forEach(function (element) {
    var id = element.id;
    var every = Math.max(1000, Number(element.dataset.refresh) || 3000);
    function again() {
      fetch(location.href, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          swap(html, [id]);
          var fresh = document.getElementById(id);
          if (fresh && fresh.hasAttribute("data-refresh")) {
            setTimeout(again, every);
          }
        })
        .catch(function () { setTimeout(again, every * 2); });
    }
    setTimeout(again, every);
  });
})();
