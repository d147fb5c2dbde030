/*
 * Agent console: the waiting conversations of the agent's queues, live, and the conversations
 * the agent accepted, with their summary (channel, authentication, contact, context,
 * verification), the delivery of each message to channels that report it (Apple Messages for
 * Business), the customer's typing, and sign-in requests. Talks to /ws/agent/ (session
 * authenticated). Every text from the server goes in with textContent.
 */
(function () {
  "use strict";

  const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
  const CLOSE_FORBIDDEN = 4403;
  const SIGNED_OUT = "Signed out, or no longer an agent: sign in again to use the console.";
  const SENDERS = { visitor: "Customer", agent: "You", system: "" };
  const CHANNEL_KINDS = {
    chat_widget: "Chat widget",
    apple_messages_for_business: "Apple Messages for Business",
  };
  const DELIVERIES = { pending: "Sending…", delivered: "Delivered", failed: "Not delivered" };

  const root = document.getElementById("console");
  const find = (testid) => document.querySelector(`[data-testid="${testid}"]`);
  const ui = {
    status: find("connection-status"),
    waiting: find("waiting-list"),
    waitingCount: find("waiting-count"),
    waitingEmpty: find("waiting-empty"),
    mine: find("my-conversations"),
    error: find("console-error"),
    placeholder: find("placeholder"),
    conversation: find("conversation"),
    summary: find("summary"),
    transcript: find("transcript"),
    compose: find("compose"),
    input: find("compose-input"),
    send: find("send"),
    close: find("close-conversation"),
    typing: find("typing"),
    conversationError: find("conversation-error"),
    signIn: find("sign-in"),
    signInMessage: find("sign-in-message"),
    requestSignIn: find("request-sign-in"),
  };

  const state = {
    socket: null,
    connected: false,
    attempts: 0,
    waiting: new Map(), // id -> Summary
    // id -> {summary, messages, seen, closed, unread, typing, error, requesting}
    mine: new Map(),
    selected: null,
    accepting: null,
    signedOut: false,
    // From connecting until the first queue frame: the agent's open conversations that no
    // `accepted` frame has named again on this connection. Those left by then were closed
    // while the console was disconnected.
    unconfirmed: null,
  };

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

  function clock(iso) {
    const moment = new Date(iso);
    return Number.isNaN(moment.getTime())
      ? ""
      : moment.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function customerName(summary) {
    if (summary.contact) {
      return summary.contact.full_name || summary.contact.email || "Known contact";
    }
    return summary.authenticated ? "Signed-in customer" : "Guest";
  }

  function showError(text) {
    ui.error.textContent = text;
    ui.error.hidden = !text;
  }

  // The server closed the socket because the session no longer holds an agent: reconnecting
  // would be refused again, so the agent is sent to sign in.
  function showSignedOut() {
    state.signedOut = true;
    ui.status.textContent = "Signed out";
    showError(SIGNED_OUT);
    ui.error.append(
      " ",
      element("a", { href: root.dataset.signInUrl, "data-testid": "sign-in-again" }, "Sign in"),
    );
  }

  // ---- The waiting list ---------------------------------------------------------------------

  function byPriorityThenAge(a, b) {
    return b.priority - a.priority || Date.parse(a.created_at) - Date.parse(b.created_at);
  }

  function renderWaiting() {
    const conversations = [...state.waiting.values()].sort(byPriorityThenAge);
    ui.waiting.replaceChildren(...conversations.map(waitingItem));
    ui.waitingCount.textContent = String(conversations.length);
    ui.waitingEmpty.hidden = conversations.length > 0;
  }

  function waitingItem(summary) {
    const item = element("li", {
      class: "card",
      "data-testid": "waiting-conversation",
      "data-conversation-id": summary.id,
    });
    const title = element("p", { class: "card-title" });
    title.append(element("strong", {}, customerName(summary)), " ");
    title.append(authenticationBadge(summary));
    item.append(title);
    item.append(
      element(
        "p",
        { class: "card-meta" },
        [
          summary.queue.name,
          `priority ${summary.priority}`,
          summary.channel,
          channelKind(summary),
          `since ${clock(summary.created_at)}`,
        ]
          .filter(Boolean)
          .join(" · "),
      ),
    );
    if (summary.customer_id) {
      item.append(element("p", { class: "card-meta customer-id" }, summary.customer_id));
    }
    const accept = element(
      "button",
      { type: "button", "data-testid": "accept", "aria-label": `Accept ${customerName(summary)}` },
      "Accept",
    );
    accept.addEventListener("click", () => {
      if (transmit({ type: "accept", conversation: summary.id })) {
        state.accepting = summary.id;
        accept.disabled = true;
      }
    });
    item.append(accept);
    return item;
  }

  function channelKind(summary) {
    return CHANNEL_KINDS[summary.channel_kind] || String(summary.channel_kind || "");
  }

  function authenticationBadge(summary) {
    return element(
      "span",
      { class: summary.authenticated ? "badge badge-yes" : "badge badge-no" },
      summary.authenticated ? "Authenticated" : "Not authenticated",
    );
  }

  // ---- The agent's conversations --------------------------------------------------------------

  function renderMine() {
    const items = [...state.mine.entries()].map(([id, conversation]) => {
      const item = element("li", {
        "data-testid": "my-conversation",
        "data-conversation-id": id,
      });
      const button = element("button", { type: "button", class: "mine-button" });
      if (id === state.selected) {
        button.setAttribute("aria-current", "true");
      }
      button.append(element("span", {}, customerName(conversation.summary)));
      if (conversation.closed) {
        button.append(" ", element("span", { class: "badge" }, "Closed"));
      } else if (conversation.unread) {
        button.append(" ", element("span", { class: "badge badge-unread" }, `${conversation.unread} new`));
      }
      button.addEventListener("click", () => select(id));
      item.append(button);
      return item;
    });
    ui.mine.replaceChildren(...items);
  }

  function select(id) {
    state.selected = id;
    const conversation = state.mine.get(id);
    ui.placeholder.hidden = Boolean(conversation);
    ui.conversation.hidden = !conversation;
    if (conversation) {
      conversation.unread = 0;
      ui.conversation.dataset.conversationId = id;
      renderSummary(conversation);
      ui.transcript.replaceChildren(...conversation.messages.map(messageItem));
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
      ui.input.disabled = ui.send.disabled = conversation.closed;
      ui.close.textContent = conversation.closed ? "Remove from my list" : "Close conversation";
      renderTyping(conversation);
      renderConversationError(conversation);
      renderSignIn();
    }
    renderMine();
  }

  function renderTyping(conversation) {
    ui.typing.hidden = !conversation.typing || conversation.closed;
  }

  function renderConversationError(conversation) {
    ui.conversationError.textContent = conversation.error || "";
    ui.conversationError.hidden = !conversation.error;
  }

  // The Request sign-in control: shown on an open conversation whose channel can ask the
  // customer to sign in, with a choice of message when the setting has several; usable while
  // connected and no request of this console awaits its answer.
  function renderSignIn() {
    const conversation = state.mine.get(state.selected);
    const messages = (conversation && conversation.summary.sign_in_messages) || [];
    ui.signIn.hidden = !conversation || conversation.closed || messages.length === 0;
    if (ui.signIn.hidden) {
      return;
    }
    const chosen = ui.signInMessage.value;
    ui.signInMessage.replaceChildren(
      ...messages.map((message) => element("option", { value: String(message.id) }, message.name)),
    );
    if (messages.some((message) => String(message.id) === chosen)) {
      ui.signInMessage.value = chosen;
    }
    ui.signInMessage.parentElement.hidden = messages.length < 2;
    ui.requestSignIn.disabled = !state.connected || Boolean(conversation.requesting);
  }

  function renderSummary(conversation) {
    const summary = conversation.summary;
    const list = element("dl", {});
    function row(label, value, testid) {
      const term = element("dt", {}, label);
      const detail = element("dd", testid ? { "data-testid": testid } : {});
      detail.append(value);
      list.append(term, detail);
    }
    let authenticated = summary.authenticated ? "Yes" : "No";
    if (summary.authenticated && summary.authenticated_until) {
      authenticated += ` (until ${clock(summary.authenticated_until)})`;
    }
    row("Authenticated", authenticated, "summary-authenticated");
    row("Status", conversation.closed ? "closed" : summary.status, "summary-status");
    row("Customer", contactDetails(summary), "summary-contact");
    if (summary.customer_id) {
      row("Customer id", summary.customer_id, "summary-customer-id");
    }
    row("Queue", `${summary.queue.name} (priority ${summary.priority})`, "summary-queue");
    row("Channel", channelDetails(summary), "summary-channel");
    row("Context", contextTable(summary.context), "summary-context");
    if (summary.context_dropped && summary.context_dropped.length) {
      row("Ignored context", summary.context_dropped.join(", "), "summary-context-dropped");
    }
    row("Verified by", verificationDetails(summary.verification), "summary-verification");

    const heading = element("h2", {}, "Summary");
    ui.summary.replaceChildren(heading, list);
  }

  function channelDetails(summary) {
    const block = element("span", {});
    block.append(summary.channel);
    const kind = channelKind(summary);
    if (kind) {
      block.append(element("br"), element("span", { "data-testid": "summary-channel-kind" }, kind));
    }
    return block;
  }

  function contactDetails(summary) {
    if (!summary.contact) {
      const text = summary.subject ? `No contact record (subject ${summary.subject})` : "Not linked";
      return element("span", {}, text);
    }
    const block = element("span", {});
    block.append(element("strong", {}, summary.contact.full_name));
    if (summary.contact.email) {
      block.append(element("br"), summary.contact.email);
    }
    return block;
  }

  function contextTable(context) {
    if (!context || !context.length) {
      return element("span", {}, "None");
    }
    const table = element("table", { class: "context" });
    for (const variable of context) {
      const row = element("tr", { "data-testid": "context-variable", "data-name": variable.name });
      row.append(element("th", { scope: "row" }, variable.name));
      row.append(element("td", {}, displayValue(variable.value)));
      table.append(row);
    }
    return table;
  }

  function displayValue(value) {
    if (value === null || value === undefined) {
      return "";
    }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function verificationDetails(verification) {
    if (!verification) {
      return element("span", {}, "Not verified");
    }
    const block = element("span", {});
    block.append(
      `Setting: ${verification.setting || "unknown"}`,
      element("br"),
      `Key id: ${verification.kid || "none"}`,
      element("br"),
      `Issuer: ${verification.iss || "none"}`,
    );
    return block;
  }

  function messageItem(message) {
    const sender = Object.hasOwn(SENDERS, message.sender) ? message.sender : "system";
    const item = element("li", {
      class: `message from-${sender}`,
      "data-sender": sender,
      "data-message-id": String(message.id),
    });
    if (SENDERS[sender]) {
      item.append(element("span", { class: "sender" }, SENDERS[sender]));
    }
    item.append(element("p", { class: "text" }, String(message.text)));
    const meta = element("p", { class: "message-meta" });
    meta.append(element("time", { datetime: message.sent_at }, clock(message.sent_at)));
    meta.append(deliveryMark(message.delivery));
    item.append(meta);
    return item;
  }

  // Empty for messages whose channel reports no delivery (chat), so the mark can appear later.
  function deliveryMark(delivery) {
    const known = Object.hasOwn(DELIVERIES, delivery);
    const mark = element(
      "span",
      { class: "delivery", "data-testid": "delivery" },
      known ? DELIVERIES[delivery] : "",
    );
    if (known) {
      mark.dataset.delivery = delivery;
    }
    mark.hidden = !known;
    return mark;
  }

  // ---- Frames from the server ---------------------------------------------------------------

  function conversationOf(frame) {
    return state.mine.get(frame.conversation);
  }

  function addMessage(conversation, message) {
    const id = String(message.id);
    if (conversation.seen.has(id)) {
      return false;
    }
    conversation.seen.add(id);
    conversation.messages.push(message);
    return true;
  }

  function markClosed(ids) {
    for (const id of ids) {
      const conversation = state.mine.get(id);
      if (conversation) {
        conversation.closed = true;
      }
    }
    if (state.mine.has(state.selected)) {
      select(state.selected);
    } else {
      renderMine();
    }
  }

  const FRAMES = {
    queue(frame) {
      state.waiting = new Map(frame.conversations.map((summary) => [summary.id, summary]));
      renderWaiting();
      if (state.unconfirmed) {
        markClosed(state.unconfirmed);
        state.unconfirmed = null;
      }
    },
    waiting(frame) {
      state.waiting.set(frame.conversation.id, frame.conversation);
      renderWaiting();
    },
    taken(frame) {
      state.waiting.delete(frame.conversation);
      renderWaiting();
    },
    accepted(frame) {
      const summary = frame.conversation;
      state.waiting.delete(summary.id);
      const known = state.mine.get(summary.id);
      const conversation = known || {
        messages: [],
        seen: new Set(),
        closed: false,
        unread: 0,
        typing: false,
        error: null,
        requesting: false,
      };
      conversation.summary = summary;
      conversation.closed = false;
      if (state.unconfirmed) {
        state.unconfirmed.delete(summary.id);
      }
      for (const message of frame.messages) {
        addMessage(conversation, message);
      }
      state.mine.set(summary.id, conversation);
      renderWaiting();
      if (state.accepting === summary.id || state.selected === null || state.selected === summary.id) {
        state.accepting = null;
        select(summary.id);
      } else {
        renderMine();
      }
    },
    message(frame) {
      const conversation = conversationOf(frame);
      if (!conversation || !addMessage(conversation, frame)) {
        return;
      }
      if (frame.sender === "visitor") {
        conversation.typing = false;
      }
      if (frame.sender === "system") {
        // The platform records a sign-in request as a system message: the request's answer.
        conversation.requesting = false;
      }
      if (state.selected === frame.conversation) {
        ui.transcript.append(messageItem(frame));
        ui.transcript.scrollTop = ui.transcript.scrollHeight;
        renderTyping(conversation);
        renderSignIn();
      } else {
        conversation.unread += 1;
        renderMine();
      }
    },
    closed(frame) {
      const conversation = conversationOf(frame);
      if (conversation) {
        conversation.closed = true;
        if (state.selected === frame.conversation) {
          select(frame.conversation);
        } else {
          renderMine();
        }
      }
    },
    authentication(frame) {
      const change = {
        authenticated: Boolean(frame.authenticated),
        authenticated_until: frame.authenticated_until || null,
      };
      const waiting = state.waiting.get(frame.conversation);
      if (waiting) {
        Object.assign(waiting, change);
        renderWaiting();
      }
      const conversation = conversationOf(frame);
      if (conversation) {
        // A sign-in mid-chat brings the whole new summary: contact, context, verification.
        Object.assign(conversation.summary, frame.summary || change);
        if (change.authenticated) {
          conversation.error = null;
        }
        if (state.selected === frame.conversation) {
          renderSummary(conversation);
          renderConversationError(conversation);
        }
        renderMine();
      }
    },
    delivery(frame) {
      const conversation = conversationOf(frame);
      const id = String(frame.message);
      const message = conversation && conversation.messages.find((m) => String(m.id) === id);
      if (!message) {
        return;
      }
      message.delivery = frame.delivery;
      if (state.selected === frame.conversation) {
        const item = [...ui.transcript.children].find((node) => node.dataset.messageId === id);
        if (item) {
          item.querySelector(".delivery").replaceWith(deliveryMark(frame.delivery));
        }
      }
    },
    typing(frame) {
      const conversation = conversationOf(frame);
      if (conversation) {
        conversation.typing = Boolean(frame.typing);
        if (state.selected === frame.conversation) {
          renderTyping(conversation);
        }
      }
    },
    error(frame) {
      const text = String(frame.detail || frame.code);
      const conversation = frame.conversation ? conversationOf(frame) : null;
      if (conversation) {
        conversation.error = text;
        conversation.requesting = false;
        if (state.selected === frame.conversation) {
          renderConversationError(conversation);
          renderSignIn();
        }
      } else {
        showError(text);
        // An error naming no conversation may still answer a sign-in request.
        for (const mine of state.mine.values()) {
          mine.requesting = false;
        }
        renderSignIn();
      }
      if (state.accepting) {
        state.accepting = null;
        renderWaiting();
      }
    },
  };

  // ---- The socket ---------------------------------------------------------------------------

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + root.dataset.socketPath);
    state.socket = socket;
    state.unconfirmed = new Set(
      [...state.mine].filter(([, conversation]) => !conversation.closed).map(([id]) => id),
    );
    socket.addEventListener("open", () => {
      state.attempts = 0;
      state.connected = true;
      ui.status.textContent = "Connected";
      ui.status.dataset.state = "connected";
      renderSignIn();
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string" && Object.hasOwn(FRAMES, frame.type)) {
        FRAMES[frame.type](frame);
      }
    });
    socket.addEventListener("close", (event) => {
      state.socket = null;
      state.connected = false;
      // An answer lost with the connection never comes: the agent may ask again once back.
      for (const conversation of state.mine.values()) {
        conversation.requesting = false;
      }
      renderSignIn();
      ui.status.dataset.state = "disconnected";
      if (event.code === CLOSE_FORBIDDEN) {
        showSignedOut();
        return;
      }
      const step = RECONNECT_DELAYS_MS[Math.min(state.attempts, RECONNECT_DELAYS_MS.length - 1)];
      state.attempts += 1;
      ui.status.textContent = "Connection lost. Reconnecting…";
      setTimeout(connect, step * (0.75 + Math.random() / 2));
    });
  }

  function transmit(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    if (state.signedOut) {
      showSignedOut();
    } else {
      showError("Not connected. Wait for the console to reconnect and try again.");
    }
    return false;
  }

  // ---- The agent's actions ------------------------------------------------------------------

  ui.compose.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (text && state.selected) {
      showError("");
      if (transmit({ type: "message", conversation: state.selected, text })) {
        ui.input.value = "";
      }
    }
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.compose.requestSubmit();
    }
  });
  ui.requestSignIn.addEventListener("click", () => {
    const conversation = state.mine.get(state.selected);
    if (!conversation || conversation.closed) {
      return;
    }
    const chosen = conversation.summary.sign_in_messages.find(
      (message) => String(message.id) === ui.signInMessage.value,
    );
    const frame = { type: "request_authentication", conversation: state.selected };
    if (chosen) {
      frame.rich_message = chosen.id;
    }
    if (transmit(frame)) {
      conversation.requesting = true;
      conversation.error = null;
      renderConversationError(conversation);
      renderSignIn();
    }
  });
  ui.close.addEventListener("click", () => {
    const conversation = state.mine.get(state.selected);
    if (!conversation) {
      return;
    }
    if (conversation.closed) {
      state.mine.delete(state.selected);
      select(null);
    } else {
      transmit({ type: "close", conversation: state.selected });
    }
  });

  renderWaiting();
  connect();
})();
