// The Messages thread: bubbles for the customer's and the business's messages, sign-in
// bubbles that can be tapped, and small notes. No network; text only through textContent.
window.AppleThread = (function () {
  "use strict";

  function create(element, handlers) {
    var signIns = {};

    function scrollDown() { element.scrollTop = element.scrollHeight; }

    function bubble(entry) {
      var row = document.createElement("div");
      row.className = "bubble-row " + (entry.from === "customer" ? "from-customer" : "from-business");
      var body = document.createElement("div");
      body.className = "bubble";
      body.dataset.testid = "apple-bubble";
      body.textContent = entry.text;
      row.appendChild(body);
      return row;
    }

    function signInBubble(entry) {
      var row = document.createElement("div");
      row.className = "bubble-row from-business";
      var card = document.createElement("button");
      card.type = "button";
      card.className = "bubble sign-in";
      card.dataset.testid = "apple-sign-in";
      var icon = document.createElement("span");
      icon.className = "sign-in-icon";
      icon.setAttribute("aria-hidden", "true");
      var title = document.createElement("span");
      title.className = "sign-in-title";
      title.textContent = entry.text;
      var action = document.createElement("span");
      action.className = "sign-in-action";
      action.textContent = "Sign In";
      card.append(icon, title, action);
      card.addEventListener("click", function () {
        if (!card.disabled) { handlers.onSignIn(entry); }
      });
      signIns[entry.request_identifier] = { card: card, action: action };
      row.appendChild(card);
      return row;
    }

    return {
      add: function (entry) {
        element.appendChild(entry.kind === "sign_in" ? signInBubble(entry) : bubble(entry));
        scrollDown();
      },
      note: function (text) {
        var line = document.createElement("p");
        line.className = "thread-note";
        line.dataset.testid = "apple-note";
        line.textContent = text;
        element.appendChild(line);
        scrollDown();
      },
      signedIn: function (requestIdentifier) {
        var signIn = signIns[requestIdentifier];
        if (!signIn) { return; }
        signIn.card.disabled = true;
        signIn.action.textContent = "Signed In";
      },
    };
  }

  return { create: create };
})();
