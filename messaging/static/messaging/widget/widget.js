/*
 * Contact center chat widget: a launcher button and a chat pane, loaded by loader.js.
 *
 * Protocol: CONTRACT.md "Widget runtime" and "Code-flow sign-in". Opening the pane gets a token
 * (see "Sign-in" below), starts a conversation over a WebSocket, and resumes it after a network
 * drop or a page reload.
 * Events on window: contactcenter:ready, contactcenter:error (detail: {code, message, detail}).
 * Every text that comes from the page or the server is put in with textContent.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const base = script.dataset.base;
  const deploymentId = script.dataset.deploymentId;
  const storageKey = "contactcenter:" + deploymentId;
  const PROVIDER_TIMEOUT_MS = 10000;
  // A session token with less than this left is refreshed before a start or sign-in uses it.
  const SESSION_MARGIN_MS = 30000;
  const MAX_TEXT = 4000;
  const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
  // The close code of a conversation that has ended: closed by the agent, or abandoned.
  const CLOSE_ENDED = 4410;

  const MESSAGES = {
    provider_failed: "We couldn't get your sign-in from this page. Please reload it and try again.",
    provider_no_token: "Please sign in to chat with us.",
    provider_timeout: "Signing you in took too long. Please try again.",
    config_unavailable: "The chat is unavailable right now. Please try again later.",
    connection_failed: "We couldn't reach the chat. Check your connection and try again.",
    token_missing: "Please sign in to chat with us.",
    token_expired: "Your session has expired. Please sign in again.",
    token_not_yet_valid: "Your sign-in isn't valid yet. Check your device's clock and try again.",
    token_revoked: "You have been signed out. Please sign in again.",
    key_unavailable: "We can't check sign-ins right now. Please try again in a few minutes.",
    subject_mismatch: "You are signed in as someone else than when this chat started.",
    upgrade_not_allowed: "This chat can't switch to your signed-in account.",
    resume_invalid: "This conversation has ended.",
    workstream_unavailable: "No one can take chats right now. Please try again later.",
    deployment_inactive: "The chat is switched off on this site.",
    origin_not_allowed: "The chat isn't enabled for this website.",
    rate_limited: "That was too fast. Please wait a moment and try again.",
    bad_frame: "Something went wrong with the chat. Please try again.",
    not_found: "The chat isn't set up correctly on this site.",
  };
  const SIGN_IN_PROBLEM = "We couldn't verify your sign-in. Please sign in again.";
  for (const code of [
    "token_malformed",
    "token_too_large",
    "token_invalid",
    "claims_missing",
    "claims_invalid",
    "issuer_mismatch",
    "unknown_kid",
    "context_invalid",
  ]) {
    MESSAGES[code] = SIGN_IN_PROBLEM;
  }
  const FALLBACK_MESSAGE = "Something went wrong. Please try again.";
  const SENDERS = { visitor: "You", agent: "Agent", system: "" };

  class WidgetError extends Error {
    constructor(code, detail) {
      super(detail || code);
      this.code = code;
      this.detail = detail || "";
    }
  }

  // ---- Page-facing helpers ----------------------------------------------------------------

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent("contactcenter:" + name, { detail }));
  }

  const storage = {
    load() {
      try {
        return JSON.parse(window.sessionStorage.getItem(storageKey));
      } catch {
        return null;
      }
    },
    save(value) {
      try {
        window.sessionStorage.setItem(storageKey, JSON.stringify(value));
      } catch {
        // Storage may be switched off; the chat works without resuming after a reload.
      }
    },
    clear() {
      try {
        window.sessionStorage.removeItem(storageKey);
      } catch {
        // As above.
      }
    },
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

  // ---- Answers from the page ----------------------------------------------------------------

  /* The function a dotted name (auth.getAuthenticationToken) names on window, bound to its
     owner, or null. */
  function pageFunction(dottedName) {
    if (!dottedName) {
      return null;
    }
    let owner = null;
    let value = window;
    for (const part of dottedName.split(".")) {
      if (value === null || value === undefined) {
        return null;
      }
      owner = value;
      value = value[part];
    }
    return typeof value === "function" ? value.bind(owner) : null;
  }

  /* What the page's provider hands over: a JWT for the implicit flow, an authorization code
     for the code flows. `read` turns the provider's answer into it, or throws a TypeError. */
  const JWT = {
    name: "token",
    read(answer) {
      if (typeof answer !== "string") {
        throw new TypeError("The page gave a " + typeof answer + " instead of a token.");
      }
      return answer;
    },
  };
  const AUTHORIZATION_CODE = {
    name: "sign-in code",
    /* A string is the code; an object is {code, redirect_uri?, code_verifier?, nonce?}. The
       redirect URI defaults to this page's address without its query and fragment. */
    read(answer) {
      const given = typeof answer === "string" ? { code: answer } : Object(answer);
      const grant = {
        code: given.code,
        redirect_uri: given.redirect_uri || window.location.origin + window.location.pathname,
      };
      for (const name of ["code_verifier", "nonce"]) {
        if (given[name] !== undefined && given[name] !== null) {
          grant[name] = given[name];
        }
      }
      for (const [name, value] of Object.entries(grant)) {
        if (typeof value !== "string" || !value) {
          throw new TypeError("The page's sign-in has no " + name + " string.");
        }
      }
      return grant;
    },
  };

  /* Ask the page's provider (the registered one, else the function the setting names) for a
     JWT or an authorization code (`kind`). A provider is called with a callback, and may
     instead return a Promise; a callback-style provider (one that declares a parameter) may
     also return a Promise of nothing, which is then ignored. Rejects with a WidgetError whose
     code is provider_failed, provider_no_token or provider_timeout. */
  function askPage(functionName, kind) {
    return new Promise((resolve, reject) => {
      const provider = window.ContactCenter.getAuthTokenProvider() || pageFunction(functionName);
      let settled = false;
      const timer = setTimeout(
        () =>
          settle(reject, new WidgetError("provider_timeout", `No ${kind.name} within 10 seconds.`)),
        PROVIDER_TIMEOUT_MS,
      );
      function settle(outcome, value) {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          outcome(value);
        }
      }
      function failed(error) {
        const detail = error && error.message ? error.message : String(error);
        settle(reject, new WidgetError("provider_failed", detail));
      }
      function accept(answer) {
        if (answer === null || answer === undefined || answer === "") {
          settle(reject, new WidgetError("provider_no_token", `The page gave no ${kind.name}.`));
          return;
        }
        try {
          settle(resolve, kind.read(answer));
        } catch (error) {
          failed(error);
        }
      }
      if (!provider) {
        failed(new TypeError("The page has no token function " + (functionName || "") + "."));
        return;
      }
      try {
        const result = provider(accept);
        if (result && typeof result.then === "function") {
          result.then((answer) => {
            if (answer !== undefined || provider.length === 0) {
              accept(answer);
            }
          }, failed);
        }
      } catch (error) {
        failed(error);
      }
    });
  }

  // ---- Sign-in ------------------------------------------------------------------------------

  /* The code flows (oauth2, openid_connect): the page's provider gives an authorization code,
     the platform exchanges it for a short-lived session token and a refresh token. The tab
     holds both (signIn.held, kept in sessionStorage with the conversation) until the sign-in
     ends: a refresh that the platform refuses as revoked, expired or unknown, or
     ContactCenter.clearSession(). */
  const CODE_FLOWS = ["oauth2", "openid_connect"];
  const SIGN_IN_ENDED = ["token_revoked", "token_expired", "token_invalid"];
  const signIn = {
    held: null, // {sessionToken, expiresAt (ms, this clock), refreshToken}
    pending: null, // the sign-in under way: one at a time, as a refresh token works once
    epoch: 0, // counts sign-outs, so a sign-in that ends after one is not kept
  };

  /* The token for a start or authenticate frame: the page's JWT, or a session token of the
     platform. Rejects with a WidgetError. */
  function signInToken(authentication) {
    if (!CODE_FLOWS.includes(authentication.type)) {
      return askPage(authentication.javascript_client_function, JWT);
    }
    if (!signIn.pending) {
      signIn.pending = sessionToken(authentication).finally(() => {
        signIn.pending = null;
      });
    }
    return signIn.pending;
  }

  /* The held session token while it has time left; else a refreshed one; else one for a new
     code from the page. */
  async function sessionToken(authentication) {
    const epoch = signIn.epoch;
    const held = signIn.held;
    if (held && held.sessionToken && held.expiresAt - Date.now() > SESSION_MARGIN_MS) {
      return held.sessionToken;
    }
    if (held) {
      try {
        return hold(await callSignIn("refresh", { refresh_token: held.refreshToken }), epoch);
      } catch (error) {
        if (!SIGN_IN_ENDED.includes(error.code)) {
          throw error;
        }
        dropSignIn(); // and sign in afresh
      }
    }
    const grant = await askPage(authentication.javascript_client_function, AUTHORIZATION_CODE);
    return hold(await callSignIn("exchange", grant), epoch);
  }

  /* Keep a {session_token, expires_in, refresh_token} answer, unless the page signed out while
     it was on its way; returns the session token. */
  function hold(pair, epoch) {
    if (epoch !== signIn.epoch) {
      callSignIn("logout", { refresh_token: pair.refresh_token }).catch(() => {});
      throw new WidgetError("provider_no_token", "The page signed out during the sign-in.");
    }
    signIn.held = {
      sessionToken: pair.session_token,
      expiresAt: Date.now() + pair.expires_in * 1000,
      refreshToken: pair.refresh_token,
    };
    remember();
    return pair.session_token;
  }

  /* The platform refused the session token: the next start refreshes it first. */
  function dropSessionToken() {
    if (signIn.held) {
      signIn.held.sessionToken = null;
      remember();
    }
  }

  function dropSignIn() {
    signIn.held = null;
    remember();
  }

  /* End the tab's sign-in, with the platform too. Resolves once the platform has answered;
     a failure is reported like any other. */
  async function signOut() {
    const held = signIn.held;
    signIn.epoch += 1;
    dropSignIn();
    if (held) {
      try {
        await callSignIn("logout", { refresh_token: held.refreshToken });
      } catch (error) {
        report(error);
      }
    }
  }

  /* POST to the platform's /widget/<id>/auth/<action>: the answer's JSON, or null for 204.
     Rejects with a WidgetError: the platform's {code, detail}, or connection_failed. */
  async function callSignIn(action, body) {
    if (!chat.config) {
      throw new WidgetError("config_unavailable", "The widget is still loading.");
    }
    const url = base + "/widget/" + encodeURIComponent(chat.config.widget_id) + "/auth/" + action;
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        keepalive: action === "logout", // a page often signs out just before it leaves
      });
    } catch (error) {
      throw new WidgetError("connection_failed", String(error));
    }
    if (response.status === 204) {
      return null;
    }
    const answer = await response.json().catch(() => null);
    if (response.ok && answer) {
      return answer;
    }
    if (answer && typeof answer.code === "string") {
      throw new WidgetError(answer.code, String(answer.detail || ""));
    }
    throw new WidgetError("connection_failed", `${action} answered ${response.status}.`);
  }

  // ---- The pane -----------------------------------------------------------------------------

  const ui = {};

  function mount() {
    ui.root = element("div", { class: "cc-widget" });
    ui.launcher = element("button", {
      type: "button",
      class: "cc-launcher",
      "aria-label": "Open chat",
      "aria-expanded": "false",
      "aria-controls": "cc-widget-pane",
    });
    ui.launcher.append(element("span", { "aria-hidden": "true", class: "cc-launcher-icon" }));
    ui.launcher.append(element("span", { class: "cc-launcher-label" }, "Chat"));

    ui.pane = element("section", {
      id: "cc-widget-pane",
      class: "cc-pane",
      role: "dialog",
      "aria-labelledby": "cc-widget-title",
    });
    ui.pane.hidden = true;
    const header = element("header", { class: "cc-header" });
    header.append(element("h2", { id: "cc-widget-title", class: "cc-title" }, "Chat with us"));
    ui.identity = element("span", { class: "cc-identity" });
    ui.identity.hidden = true;
    header.append(ui.identity);
    ui.close = element("button", { type: "button", class: "cc-close", "aria-label": "Close chat" });
    ui.close.textContent = "\u00d7";
    header.append(ui.close);

    ui.status = element("p", { class: "cc-status", role: "status", "aria-live": "polite" });
    ui.alert = element("div", { class: "cc-alert", role: "alert" });
    ui.alert.hidden = true;
    ui.alertText = element("p", { class: "cc-alert-text" });
    ui.retry = element("button", { type: "button", class: "cc-retry" }, "Try again");
    ui.alert.append(ui.alertText, ui.retry);

    ui.log = element("ol", { class: "cc-log", role: "log", "aria-label": "Messages" });

    ui.form = element("form", { class: "cc-compose" });
    const label = element("label", { for: "cc-widget-input", class: "cc-hidden" }, "Message");
    ui.input = element("textarea", {
      id: "cc-widget-input",
      class: "cc-input",
      rows: "2",
      maxlength: String(MAX_TEXT),
      placeholder: "Type a message\u2026",
    });
    ui.send = element("button", { type: "submit", class: "cc-send" }, "Send");
    ui.form.append(label, ui.input, ui.send);

    ui.pane.append(header, ui.status, ui.alert, ui.log, ui.form);
    ui.root.append(ui.pane, ui.launcher);
    document.body.append(ui.root);

    ui.launcher.addEventListener("click", () => (ui.pane.hidden ? openPane() : closePane()));
    ui.close.addEventListener("click", () => {
      closePane();
      ui.launcher.focus();
    });
    ui.pane.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        closePane();
        ui.launcher.focus();
      }
    });
    ui.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        ui.form.requestSubmit();
      }
    });
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = ui.input.value.trim();
      if (text) {
        hideAlert();
        send(text);
        ui.input.value = "";
      }
    });
    ui.retry.addEventListener("click", () => begin());
  }

  function setStatus(text) {
    ui.status.textContent = text;
  }

  function showAlert(text, action) {
    ui.alertText.textContent = text;
    ui.retry.hidden = !action;
    ui.alert.hidden = false;
    if (action) {
      ui.retry.textContent = action;
      // The message box is switched off now: keep the keyboard in the pane.
      const focus = document.activeElement;
      if (!ui.pane.hidden && (!focus || focus === document.body || ui.pane.contains(focus))) {
        ui.retry.focus();
      }
    }
  }

  function hideAlert() {
    ui.alert.hidden = true;
  }

  function setComposing(enabled) {
    ui.input.disabled = !enabled;
    ui.send.disabled = !enabled;
  }

  function showIdentity() {
    ui.identity.hidden = false;
    ui.identity.textContent = chat.authenticated ? "Signed in" : "Guest";
  }

  function appendMessage(frame) {
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
    ui.log.append(item);
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function openPane() {
    ui.pane.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.setAttribute("aria-label", "Hide chat");
    remember();
    if (chat.phase === "idle") {
      begin();
    }
    ui.input.focus();
  }

  function closePane() {
    ui.pane.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.setAttribute("aria-label", "Open chat");
    remember();
  }

  // ---- The conversation ---------------------------------------------------------------------

  /* phase: idle (nothing yet), authorizing, connecting, open, reconnecting, failed, ended. */
  const chat = {
    phase: "idle",
    config: null,
    socket: null,
    refusal: null,
    conversation: null,
    resumeToken: null,
    lastId: null,
    authenticated: false,
    seen: new Set(),
    outbox: [],
    attempts: 0,
    reconnectTimer: null,
    upgradeTried: false,
  };

  /* Keep what a reload needs: the conversation to resume and the sign-in. */
  function remember() {
    const state = {};
    if (chat.conversation) {
      Object.assign(state, {
        conversation: chat.conversation,
        resumeToken: chat.resumeToken,
        open: !ui.pane.hidden,
      });
    }
    if (signIn.held) {
      state.signIn = signIn.held;
    }
    if (Object.keys(state).length) {
      storage.save(state);
    } else {
      storage.clear();
    }
  }

  function setPhase(phase, status) {
    chat.phase = phase;
    setStatus(status || "");
    setComposing(!["failed", "ended"].includes(phase));
  }

  async function loadConfig() {
    const url = base + "/widget/deployment/" + encodeURIComponent(deploymentId) + "/config";
    let response;
    try {
      response = await fetch(url, { credentials: "omit", cache: "no-cache" });
    } catch (error) {
      throw new WidgetError("config_unavailable", String(error));
    }
    if (!response.ok) {
      throw new WidgetError("config_unavailable", "The widget config answered " + response.status);
    }
    return response.json();
  }

  /* The conversation cannot go on: say why and offer to start again. */
  function fail(error) {
    const code = error.code || "config_unavailable";
    const message = MESSAGES[code] || FALLBACK_MESSAGE;
    setPhase("failed");
    showAlert(message, "Try again");
    emit("error", { code, message, detail: error.detail || "" });
  }

  /* Something failed that the conversation survives: say so and carry on. */
  function report(error) {
    const message = MESSAGES[error.code] || FALLBACK_MESSAGE;
    showAlert(message, null);
    emit("error", { code: error.code, message, detail: error.detail || "" });
  }

  /* Start a new conversation: get a token when the widget authenticates, then connect. */
  async function begin() {
    hideAlert();
    forget();
    ui.log.replaceChildren();
    ui.identity.hidden = true;
    try {
      if (!chat.config) {
        setPhase("connecting", "Connecting\u2026");
        chat.config = await loadConfig();
      }
      const authentication = chat.config.authentication;
      let token = null;
      if (authentication) {
        setPhase("authorizing", "Signing you in\u2026");
        token = await signInToken(authentication).catch((error) => {
          // Not signed in is fine where the widget also takes guests; failures never are.
          if (error.code === "provider_no_token" && !chat.config.require_authentication) {
            return null;
          }
          throw error;
        });
        if (chat.phase !== "authorizing") {
          return; // the page cleared the session meanwhile
        }
      }
      setPhase("connecting", "Connecting\u2026");
      connect({ type: "start", token, deployment_id: deploymentId });
    } catch (error) {
      if (chat.phase !== "idle") {
        fail(error);
      }
    }
  }

  function connect(firstFrame) {
    const wsBase = base.replace(/^http/, "ws");
    const socket = new WebSocket(wsBase + "/ws/widget/" + chat.config.widget_id + "/");
    chat.socket = socket;
    chat.refusal = null;
    socket.addEventListener("open", () => socket.send(JSON.stringify(firstFrame)));
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
      if (chat.socket === socket) {
        chat.socket = null;
        closed(event.code);
      }
    });
  }

  function transmit(frame) {
    chat.socket.send(JSON.stringify(frame));
  }

  const FRAMES = {
    started(frame) {
      chat.conversation = frame.conversation;
      chat.resumeToken = frame.resume_token;
      joined(frame);
    },
    resumed(frame) {
      joined(frame);
      if (!chat.authenticated) {
        upgrade();
      }
    },
    message(frame) {
      const id = String(frame.id);
      if (chat.seen.has(id)) {
        return;
      }
      chat.seen.add(id);
      chat.lastId = id;
      appendMessage(frame);
      remember();
    },
    authenticated() {
      chat.authenticated = true;
      showIdentity();
    },
    error(frame) {
      const error = new WidgetError(String(frame.code), String(frame.detail || ""));
      if (chat.phase === "open") {
        report(error); // the socket stays open
      } else {
        chat.refusal = error; // the close that follows says the rest
      }
    },
  };

  function joined(frame) {
    chat.authenticated = Boolean(frame.authenticated);
    chat.attempts = 0;
    setPhase("open");
    hideAlert();
    showIdentity();
    remember();
    for (const text of chat.outbox.splice(0)) {
      transmit({ type: "message", text });
    }
  }

  /* A guest's conversation signs in once the page has a token (after signing in on the page
     and reloading). Where the widget takes no sign-in mid-chat, the platform says so
     (upgrade_not_allowed) and the visitor is told. A code flow upgrades only with a sign-in
     already held: asking the page for a code could send the visitor away mid-chat. */
  function upgrade() {
    const authentication = chat.config.authentication;
    if (!authentication || chat.upgradeTried) {
      return;
    }
    if (CODE_FLOWS.includes(authentication.type) && !signIn.held) {
      return;
    }
    chat.upgradeTried = true;
    signInToken(authentication).then(
      (token) => chat.phase === "open" && transmit({ type: "authenticate", token }),
      () => {}, // still a guest, as the visitor already sees
    );
  }

  function closed(code) {
    const refusal = chat.refusal;
    if (code === 4401) {
      dropSessionToken();
    }
    if (code === CLOSE_ENDED || (refusal && refusal.code === "resume_invalid")) {
      ended();
    } else if (refusal || (code >= 4400 && code < 4500)) {
      fail(refusal || new WidgetError("bad_frame", "Closed with code " + code));
    } else if (chat.conversation) {
      reconnectLater();
    } else {
      fail(new WidgetError("connection_failed", "Closed with code " + code));
    }
  }

  function ended() {
    forget();
    setPhase("ended");
    showAlert(MESSAGES.resume_invalid, "Start a new chat");
  }

  function reconnectLater() {
    const step = RECONNECT_DELAYS_MS[Math.min(chat.attempts, RECONNECT_DELAYS_MS.length - 1)];
    chat.attempts += 1;
    setPhase("reconnecting", "Connection lost. Reconnecting\u2026");
    chat.reconnectTimer = setTimeout(reconnect, step * (0.75 + Math.random() / 2));
  }

  function reconnect() {
    clearTimeout(chat.reconnectTimer);
    chat.reconnectTimer = null;
    const frame = {
      type: "resume",
      conversation: chat.conversation,
      resume_token: chat.resumeToken,
    };
    if (chat.lastId) {
      frame.after = chat.lastId;
    }
    connect(frame);
  }

  function send(text) {
    if (chat.phase === "open" && chat.socket && chat.socket.readyState === WebSocket.OPEN) {
      transmit({ type: "message", text });
    } else {
      chat.outbox.push(text);
    }
  }

  /* Drop the conversation this tab holds: its socket and its stored resume token. */
  function forget() {
    const socket = chat.socket;
    chat.socket = null;
    if (socket) {
      socket.close();
    }
    clearTimeout(chat.reconnectTimer);
    Object.assign(chat, {
      phase: "idle",
      conversation: null,
      resumeToken: null,
      lastId: null,
      authenticated: false,
      attempts: 0,
      reconnectTimer: null,
    });
    chat.seen.clear();
    remember();
  }

  // ---- Start up -----------------------------------------------------------------------------

  async function init() {
    mount();
    const saved = storage.load() || {};
    if (saved.signIn && saved.signIn.refreshToken) {
      signIn.held = saved.signIn;
    }
    /* Forget the conversation and end the sign-in; resolves once the platform knows. */
    window.ContactCenter.clearSession = () => {
      forget();
      chat.outbox.length = 0;
      ui.log.replaceChildren();
      ui.identity.hidden = true;
      hideAlert();
      setPhase("idle");
      return signOut();
    };
    window.addEventListener("online", () => {
      if (chat.reconnectTimer !== null) {
        reconnect();
      }
    });
    try {
      chat.config = await loadConfig();
    } catch (error) {
      emit("error", { code: error.code, message: MESSAGES[error.code], detail: error.detail });
      return;
    }
    if (saved.conversation && saved.resumeToken) {
      // A reload: resume without "after", so the whole transcript comes back.
      chat.conversation = saved.conversation;
      chat.resumeToken = saved.resumeToken;
      setPhase("connecting", "Connecting\u2026");
      reconnect();
      if (saved.open) {
        openPane();
      }
    }
    emit("ready", { deploymentId, widgetId: chat.config.widget_id });
  }

  if (document.body) {
    init();
  } else {
    document.addEventListener("DOMContentLoaded", init);
  }
})();
