// The simulated device's calls to the Messages page's server: read the conversation, send a
// text, answer a sign-in request. No DOM. Every call resolves with the JSON answer or rejects
// with an Error whose message is the server's one-sentence reason.
window.AppleDevice = (function () {
  "use strict";

  function create(options) {
    function call(url, init) {
      return fetch(url, Object.assign({ credentials: "same-origin", cache: "no-store" }, init))
        .then(function (response) {
          return response.json().then(
            function (answer) { return { ok: response.ok, answer: answer }; },
            function () { return { ok: false, answer: {} }; }
          );
        })
        .then(function (result) {
          if (!result.ok) {
            throw new Error(result.answer.detail || "The message could not be sent.");
          }
          return result.answer;
        });
    }

    // Signing in at the provider gives the session a new CSRF token: the cookie holds the
    // current one, the page the one it was served with.
    function csrfToken() {
      var prefix = options.csrfCookieName + "=";
      var cookie = document.cookie.split("; ").filter(function (item) {
        return item.indexOf(prefix) === 0;
      })[0];
      return cookie ? decodeURIComponent(cookie.slice(prefix.length)) : options.csrfToken;
    }

    function post(url, fields) {
      return call(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(Object.assign({ business_id: options.businessId }, fields)),
      });
    }

    return {
      entriesAfter: function (after) {
        return call(options.messagesUrl + "?after=" + encodeURIComponent(after))
          .then(function (answer) { return answer.entries; });
      },
      sendText: function (text) { return post(options.sendUrl, { text: text }); },
      replyToSignIn: function (requestIdentifier, status) {
        return post(options.signInReplyUrl, {
          request_identifier: requestIdentifier,
          status: status,
        });
      },
    };
  }

  return { create: create };
})();
