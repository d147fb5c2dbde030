// The Messages page: polls the device's conversation every second, sends what the customer
// writes, and runs a sign-in: the provider's page opens in a popup; once the provider has sent
// the customer back to the platform's callback page, the device answers the request with
// "authenticated" (or "failure" when that page says why not).
(function () {
  "use strict";

  var script = document.currentScript;
  var options = script.dataset;
  var POLL_MS = 1000;
  var WATCH_MS = 400;
  var SIGNED_IN_TEXT = "Signed in";

  var device = window.AppleDevice.create({
    businessId: options.businessId,
    csrfToken: options.csrfToken,
    csrfCookieName: options.csrfCookieName,
    messagesUrl: options.messagesUrl,
    sendUrl: options.sendUrl,
    signInReplyUrl: options.signInReplyUrl,
  });
  var thread = window.AppleThread.create(document.getElementById("apple-thread"), {
    onSignIn: signIn,
  });
  var form = document.getElementById("apple-compose");
  var input = document.getElementById("apple-text");
  var last = 0;
  var polling = null;

  function poll() {
    if (polling) { return polling; }
    polling = device.entriesAfter(last).then(function (entries) {
      entries.forEach(function (entry) {
        if (entry.n > last) {
          last = entry.n;
          thread.add(entry);
        }
      });
    }, function () { /* the next tick tries again */ }).then(function () { polling = null; });
    return polling;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    input.disabled = true;
    device.sendText(text).then(function () {
      input.value = "";
      return poll();
    }, function (error) {
      // The text stays in the box, to send again.
      thread.note(error.message);
    }).then(function () {
      input.disabled = false;
      input.focus();
    });
  });

  function signIn(entry) {
    var authorizeUrl = new URL(entry.authorize_url, window.location.href);
    var callback = new URL(authorizeUrl.searchParams.get("redirect_uri") || "", window.location.href);
    var popup = window.open(authorizeUrl.href, "apple-sign-in", "width=480,height=640");
    if (!popup) {
      thread.note("Allow pop-ups for this page to sign in.");
      return;
    }
    var watch = window.setInterval(function () {
      if (popup.closed) {
        window.clearInterval(watch);
        return;
      }
      var text;
      try {
        if (popup.location.pathname !== callback.pathname
            || popup.document.readyState !== "complete") { return; }
        text = popup.document.body.textContent.trim();
      } catch (notYetOurs) {
        return;  // still on another origin's page
      }
      window.clearInterval(watch);
      popup.close();
      var signedIn = text.indexOf(SIGNED_IN_TEXT) === 0;
      if (!signedIn) { thread.note(text); }
      device.replyToSignIn(entry.request_identifier, signedIn ? "authenticated" : "failure")
        .then(function () {
          if (signedIn) { thread.signedIn(entry.request_identifier); }
          return poll();
        }, function (error) { thread.note(error.message); });
    }, WATCH_MS);
  }

  poll();
  window.setInterval(poll, POLL_MS);
})();
