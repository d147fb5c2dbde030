/*
 * Agent console: the waiting conversations of the agent's queues, live, and the conversations
 * the agent accepted, with their summary (authentication, contact, context, verification).
 * Talks to /ws/agent/ (session authenticated). Every text from the server goes in with
 * textContent.
 */
(function () {
  "use strict";

  const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
  const CLOSE_FORBIDDEN = 4403;
  const SIGNED_OUT = "Signed out, or no longer an agent: sign in again to use the console.";
  const SENDERS = { visitor: "Customer", agent: "You", system: "" };

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
  };

  const state = {
    socket: null,
    attempts: 0,
    waiting: new Map(), // id -> Summary
    mine: new Map(), // id -> {summary, messages, seen, closed, unread}
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
        `${summary.queue.name} · priority ${summary.priority} · ${summary.channel} · ` +
          `since ${clock(summary.created_at)}`,
      ),
    );
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
    }
    renderMine();
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
    row("Queue", `${summary.queue.name} (priority ${summary.priority})`, "summary-queue");
    row("Channel", summary.channel, "summary-channel");
    row("Context", contextTable(summary.context), "summary-context");
    if (summary.context_dropped && summary.context_dropped.length) {
      row("Ignored context", summary.context_dropped.join(", "), "summary-context-dropped");
    }
    row("Verified by", verificationDetails(summary.verification), "summary-verification");

    const heading = element("h2", {}, "Summary");
    ui.summary.replaceChildren(heading, list);
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
    const item = element("li", { class: `message from-${sender}`, "data-sender": sender });
    if (SENDERS[sender]) {
      item.append(element("span", { class: "sender" }, SENDERS[sender]));
    }
    item.append(element("p", { class: "text" }, String(message.text)));
    item.append(element("time", { datetime: message.sent_at }, clock(message.sent_at)));
    return item;
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
      if (state.selected === frame.conversation) {
        ui.transcript.append(messageItem(frame));
        ui.transcript.scrollTop = ui.transcript.scrollHeight;
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
        if (state.selected === frame.conversation) {
          renderSummary(conversation);
        }
        renderMine();
      }
    },
    error(frame) {
      showError(String(frame.detail || frame.code));
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
      ui.status.textContent = "Connected";
      ui.status.dataset.state = "connected";
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
