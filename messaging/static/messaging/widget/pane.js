/*
 * ContactCenterPane: the chat widget's launcher button and chat pane, DOM only.
 *
 *   const pane = new ContactCenterPane({onOpen, onToggle, onSend, onRetry});
 *
 * onOpen() when the visitor opens the pane, onToggle() after it opens or closes, onSend(text)
 * for each message written, onRetry() for the alert's button. Every text goes in with
 * textContent.
 */
(function (global) {
  "use strict";

  const MAX_TEXT = 4000;
  const SENDERS = { visitor: "You", agent: "Agent", system: "" };

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      node.setAttribute(name, value);
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  class ContactCenterPane {
    constructor({ onOpen, onToggle, onSend, onRetry }) {
      this.onOpen = onOpen;
      this.onToggle = onToggle;
      this.root = element("div", { class: "cc-widget" });
      this.launcher = element("button", {
        type: "button",
        class: "cc-launcher",
        "aria-label": "Open chat",
        "aria-expanded": "false",
        "aria-controls": "cc-widget-pane",
      });
      this.launcher.append(element("span", { "aria-hidden": "true", class: "cc-launcher-icon" }));
      this.launcher.append(element("span", { class: "cc-launcher-label" }, "Chat"));

      this.pane = element("section", {
        id: "cc-widget-pane",
        class: "cc-pane",
        role: "dialog",
        "aria-labelledby": "cc-widget-title",
      });
      this.pane.hidden = true;
      const header = element("header", { class: "cc-header" });
      header.append(element("h2", { id: "cc-widget-title", class: "cc-title" }, "Chat with us"));
      this.identity = element("span", { class: "cc-identity" });
      this.identity.hidden = true;
      header.append(this.identity);
      const close = element(
        "button",
        { type: "button", class: "cc-close", "aria-label": "Close chat" },
        "\u00d7",
      );
      header.append(close);

      this.status = element("p", { class: "cc-status", role: "status", "aria-live": "polite" });
      this.alert = element("div", { class: "cc-alert", role: "alert" });
      this.alert.hidden = true;
      this.alertText = element("p", { class: "cc-alert-text" });
      this.signIn = element("a", { class: "cc-sign-in" }, "Sign in to chat");
      this.retry = element("button", { type: "button", class: "cc-retry" }, "Try again");
      this.alert.append(this.alertText, this.signIn, this.retry);

      this.log = element("ol", { class: "cc-log", role: "log", "aria-label": "Messages" });

      const form = element("form", { class: "cc-compose" });
      const label = element("label", { for: "cc-widget-input", class: "cc-hidden" }, "Message");
      this.input = element("textarea", {
        id: "cc-widget-input",
        class: "cc-input",
        rows: "2",
        maxlength: String(MAX_TEXT),
        placeholder: "Type a message\u2026",
      });
      this.sendButton = element("button", { type: "submit", class: "cc-send" }, "Send");
      form.append(label, this.input, this.sendButton);

      this.pane.append(header, this.status, this.alert, this.log, form);
      this.root.append(this.pane, this.launcher);
      document.body.append(this.root);

      this.launcher.addEventListener("click", () => (this.isOpen() ? this.hide() : this.show()));
      close.addEventListener("click", () => {
        this.hide();
        this.launcher.focus();
      });
      this.pane.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          this.hide();
          this.launcher.focus();
        }
      });
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = this.input.value.trim();
        if (text) {
          this.hideAlert();
          onSend(text);
          this.input.value = "";
        }
      });
      this.retry.addEventListener("click", () => onRetry());
    }

    isOpen() {
      return !this.pane.hidden;
    }

    show() {
      this.pane.hidden = false;
      this.launcher.setAttribute("aria-expanded", "true");
      this.launcher.setAttribute("aria-label", "Hide chat");
      this.onToggle();
      this.onOpen();
      this.input.focus();
    }

    hide() {
      this.pane.hidden = true;
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.setAttribute("aria-label", "Open chat");
      this.onToggle();
    }

    setStatus(text) {
      this.status.textContent = text;
    }

    /* An alert, with a button labelled `action` that calls onRetry, or none, and a "Sign in to
       chat" link to `signInUrl` (an http or https address), or none. */
    showAlert(text, action, signInUrl) {
      this.alertText.textContent = text;
      this.retry.hidden = !action;
      this.signIn.hidden = !signInUrl;
      if (signInUrl) {
        this.signIn.href = signInUrl;
      } else {
        this.signIn.removeAttribute("href");
      }
      this.alert.hidden = false;
      if (action) {
        this.retry.textContent = action;
        // The message box is switched off now: keep the keyboard in the pane.
        const focus = document.activeElement;
        if (this.isOpen() && (!focus || focus === document.body || this.pane.contains(focus))) {
          (signInUrl ? this.signIn : this.retry).focus();
        }
      }
    }

    hideAlert() {
      this.alert.hidden = true;
    }

    setComposing(enabled) {
      this.input.disabled = !enabled;
      this.sendButton.disabled = !enabled;
    }

    showIdentity(authenticated) {
      this.identity.hidden = false;
      this.identity.textContent = authenticated ? "Signed in" : "Guest";
    }

    /* Empty the pane for another conversation. */
    clear() {
      this.log.replaceChildren();
      this.identity.hidden = true;
      this.hideAlert();
    }

    appendMessage(frame) {
      const sender = Object.hasOwn(SENDERS, frame.sender) ? frame.sender : "system";
      const item = element("li", { class: "cc-message cc-from-" + sender });
      if (SENDERS[sender]) {
        item.append(element("span", { class: "cc-sender" }, SENDERS[sender]));
      }
      item.append(element("p", { class: "cc-text" }, String(frame.text)));
      const sentAt = new Date(frame.sent_at);
      if (!Number.isNaN(sentAt.getTime())) {
        const time = sentAt.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        item.append(element("time", { datetime: sentAt.toISOString(), class: "cc-time" }, time));
      }
      this.log.append(item);
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  global.ContactCenterPane = ContactCenterPane;
})(window);
