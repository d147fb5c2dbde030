/*
 * ContactCenterTransport: a visitor's conversation with the contact center, without any DOM.
 *
 * Protocol: CONTRACT.md "Widget runtime", "Code-flow sign-in" and "Mobile apps and the transport
 * SDK". It starts a conversation over a WebSocket (signing in first where the widget asks for
 * it), resumes it after a dropped connection or a reload without losing or repeating a message,
 * keeps what the visitor sends while the connection is down, and refreshes a code-flow sign-in.
 *
 * A message sent just before the connection drops may or may not have been stored: the
 * transport keeps each sent text until its echo arrives. On `resumed` the platform replays every
 * message after the last one seen, all before it reads the next frame from this socket; so the
 * transport sends a frame the platform always refuses (an empty message) and takes the refusal
 * as the end of the replay. The visitor's replayed messages confirm the kept texts in order;
 * the rest were lost, and are sent again (then what was typed while offline).
 *
 *   const transport = new ContactCenterTransport({domain, deploymentId, storage?, WebSocket?,
 *                                                 authToken?, authCode?});
 *   transport.on("message", (frame) => ...);
 *   transport.start();
 *
 * It runs in a browser, in React Native and in Node 20+: it needs only fetch and a WebSocket
 * class (the global one unless one is passed, such as the `ws` package's).
 *
 * authToken(authentication) and authCode(authentication) return a promise of a JWT and of
 * {code, redirect_uri, code_verifier?, nonce?}; they reject with an error carrying a `code`
 * (provider_no_token when the visitor is not signed in). storage is a key/value store with
 * getItem, setItem and removeItem, answering at once or with a promise (localStorage,
 * sessionStorage, React Native's AsyncStorage); it keeps the conversation to resume and the
 * sign-in under "contactcenter:<deploymentId>", and is in memory by default.
 *
 * Events: phase ({phase}: idle, authorizing, connecting, open, reconnecting, failed, ended),
 * started and resumed ({conversation, authenticated}), message (the server's frame),
 * authenticated ({conversation, authenticated}), reauthenticate ({conversation, expires_in}:
 * the platform asks for a fresh sign-in, which the transport then sends), closed
 * ({conversation, reason}: the conversation has ended; no reconnect follows), error ({code,
 * message, fatal}: fatal when the conversation cannot go on), reconnecting ({attempt}).
 */
(function (global) {
  "use strict";

  // A session token with less than this left is refreshed before a start or sign-in uses it.
  const SESSION_MARGIN_MS = 30000;
  const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
  // A socket not open by then is given up as a dropped connection: on a failing network a
  // connection can hang unanswered (Node 20's WebSocket even does when the server hangs up
  // during the handshake).
  const CONNECT_TIMEOUT_MS = 10000;
  // The close code of a conversation that has ended: closed by the agent, or abandoned.
  const CLOSE_ENDED = 4410;
  const CLOSE_UNAUTHENTICATED = 4401;
  const SOCKET_OPEN = 1;
  const CLOSE_NO_STATUS = 1006; // the connection was lost
  const MAX_MESSAGE_CHARACTERS = 4000;
  // Answered by a bad_frame error after the whole replay, storing nothing (see above).
  const REPLAY_END_PROBE = { type: "message", text: "" };
  const CODE_FLOWS = ["oauth2", "openid_connect"];
  // Refresh refusals that end the sign-in: the visitor has to sign in afresh.
  const SIGN_IN_ENDED = ["token_revoked", "token_expired", "token_invalid"];

  const STORAGE_PREFIX = "contactcenter:";

  class TransportError extends Error {
    constructor(code, detail) {
      super(detail || code);
      this.code = code;
    }
  }

  const memoryStorage = () => {
    const items = new Map();
    return {
      getItem: (key) => (items.has(key) ? items.get(key) : null),
      setItem: (key, value) => {
        items.set(key, String(value));
      },
      removeItem: (key) => {
        items.delete(key);
      },
    };
  };

  /* Run a storage call that may throw or reject: storage can be switched off, and the chat
     works without it (it only cannot resume after a reload). Resolves to its answer or null. */
  function quietly(call) {
    try {
      return Promise.resolve(call()).catch(() => null);
    } catch {
      return Promise.resolve(null);
    }
  }

  function baseUrl(domain) {
    const base = domain.includes("://") ? domain : "https://" + domain;
    return base.replace(/\/+$/, "");
  }

  class ContactCenterTransport {
    constructor({ domain, deploymentId, WebSocket, storage, authToken, authCode }) {
      this.base = baseUrl(domain);
      this.deploymentId = deploymentId;
      this.WebSocket = WebSocket || global.WebSocket;
      if (typeof this.WebSocket !== "function") {
        throw new TypeError(
          "ContactCenterTransport needs a WebSocket class: pass one (in Node 20, run it with " +
            "--experimental-websocket, or pass the ws package's WebSocket).",
        );
      }
      this.storage = storage || memoryStorage();
      this.storageKey = STORAGE_PREFIX + deploymentId;
      this.restoring = null;
      this.epoch = 0; // counts close(): a restore that ends after one is not applied
      this.authToken = authToken || null;
      this.authCode = authCode || null;
      this.listeners = new Map();
      this.configPromise = null;
      this.config = null;

      this.phase = "idle";
      this.socket = null;
      this.refusal = null;
      this.endReason = null;
      this.conversation = null;
      this.resumeToken = null;
      this.lastId = null;
      this.authenticated = false;
      this.seen = new Set();
      this.outbox = []; // texts to send once the conversation is open
      this.unconfirmed = []; // texts sent whose echo has not arrived yet
      this.replaying = false; // resumed, waiting for the end of the replay
      this.attempts = 0;
      this.reconnectTimer = null;
      this.upgradeTried = false;

      this.signIn = null; // {sessionToken, expiresAt (ms, this clock), refreshToken}
      this.pendingSignIn = null; // one at a time, as a refresh token works once
      this.signOuts = 0; // a sign-in that ends after a sign-out is not kept
    }

    /* Read back what an earlier run kept (the conversation to resume, the sign-in), once.
       start() waits for it; a page that wants to know whether there is a conversation to
       resume before starting can too. */
    restore() {
      if (!this.restoring) {
        const epoch = this.epoch;
        this.restoring = quietly(() => this.storage.getItem(this.storageKey)).then((text) => {
          let saved = null;
          try {
            saved = typeof text === "string" ? JSON.parse(text) : null;
          } catch {
            // Not ours, or damaged: start afresh.
          }
          if (!saved || typeof saved !== "object" || epoch !== this.epoch) {
            return;
          }
          if (saved.signIn && saved.signIn.refreshToken && !this.signIn) {
            this.signIn = saved.signIn;
          }
          if (saved.conversation && saved.resumeToken && !this.conversation) {
            this.conversation = saved.conversation;
            this.resumeToken = saved.resumeToken;
          }
        });
      }
      return this.restoring;
    }

    on(event, listener) {
      if (!this.listeners.has(event)) {
        this.listeners.set(event, []);
      }
      this.listeners.get(event).push(listener);
      return this;
    }

    emit(event, detail) {
      for (const listener of this.listeners.get(event) || []) {
        listener(detail);
      }
    }

    /* The widget's public config, fetched once. Rejects with the platform's code
       (deployment_inactive, not_found) or config_unavailable. */
    loadConfig() {
      if (!this.configPromise) {
        const url = `${this.base}/widget/deployment/${encodeURIComponent(this.deploymentId)}/config`;
        this.configPromise = fetch(url, { credentials: "omit", cache: "no-cache" })
          .catch((error) => {
            throw new TransportError("config_unavailable", String(error));
          })
          .then(async (response) => {
            if (response.ok) {
              return response.json();
            }
            const answer = await response.json().catch(() => null);
            if (answer && typeof answer.code === "string") {
              throw new TransportError(answer.code, String(answer.detail || ""));
            }
            throw new TransportError(
              "config_unavailable",
              "The widget config answered " + response.status,
            );
          })
          .then((config) => {
            this.config = config;
            return config;
          });
        this.configPromise.catch(() => {
          this.configPromise = null; // the next start asks again
        });
      }
      return this.configPromise;
    }

    /* Resume the conversation this transport holds (after a reload: the whole transcript),
       else start a new one, signing in first where the widget authenticates. */
    async start() {
      this.setPhase("connecting");
      await this.restore();
      if (this.phase !== "connecting") {
        return; // closed meanwhile
      }
      let config;
      try {
        config = await this.loadConfig();
      } catch (error) {
        if (this.phase !== "idle") {
          this.fail(error);
        }
        return;
      }
      if (this.phase !== "connecting") {
        return; // closed meanwhile
      }
      if (this.conversation) {
        this.reconnect();
        return;
      }
      try {
        let token = null;
        if (config.authentication) {
          this.setPhase("authorizing");
          token = await this.signInToken().catch((error) => {
            // Not signed in is fine where the widget also takes guests; failures never are.
            if (error.code === "provider_no_token" && !config.require_authentication) {
              return null;
            }
            throw error;
          });
          if (this.phase !== "authorizing") {
            return; // closed or signed out meanwhile
          }
        }
        this.setPhase("connecting");
        this.connect({ type: "start", token, deployment_id: this.deploymentId });
      } catch (error) {
        if (this.phase !== "idle") {
          this.fail(error);
        }
      }
    }

    /* Send a message now, or once the conversation is open again. A text the platform would
       refuse (empty, over 4000 characters, holding NUL) is reported as a bad_frame error. */
    send(text) {
      const length = typeof text === "string" ? [...text].length : 0;
      if (!length || length > MAX_MESSAGE_CHARACTERS || text.includes("\0")) {
        this.report(
          new TransportError("bad_frame", "A message is 1 to 4000 characters without NUL."),
        );
      } else if (this.open() && !this.replaying) {
        this.sendMessage(text);
      } else {
        this.outbox.push(text);
      }
    }

    /* Sign the open conversation in with a token (same `sub` as any earlier one). */
    authenticate(token) {
      if (this.phase === "open") {
        this.transmit({ type: "authenticate", token });
      }
    }

    /* Drop the conversation this transport holds: its socket, what waits to be sent, and its
       stored resume token. The sign-in stays. */
    close() {
      const socket = this.socket;
      this.socket = null;
      if (socket) {
        socket.close();
      }
      clearTimeout(this.reconnectTimer);
      Object.assign(this, {
        conversation: null,
        resumeToken: null,
        lastId: null,
        authenticated: false,
        attempts: 0,
        reconnectTimer: null,
        upgradeTried: false,
        outbox: [],
        unconfirmed: [],
        replaying: false,
      });
      this.epoch += 1;
      this.seen.clear();
      this.setPhase("idle");
      this.remember();
    }

    /* Close the conversation and end the sign-in, with the platform too. Resolves once the
       platform has answered; a failure is reported as an error event. */
    async logout() {
      this.close();
      const held = this.signIn;
      this.signOuts += 1;
      this.dropSignIn();
      if (held) {
        try {
          await this.callSignIn("logout", { refresh_token: held.refreshToken });
        } catch (error) {
          this.report(error);
        }
      }
    }

    /* Reconnect now rather than after the backoff (the network is back). */
    reconnectNow() {
      if (this.reconnectTimer !== null) {
        this.reconnect();
      }
    }

    // ---- State -------------------------------------------------------------------------------

    setPhase(phase) {
      this.phase = phase;
      this.emit("phase", { phase });
    }

    /* Keep what a reload needs: the conversation to resume and the sign-in. */
    remember() {
      const state = {};
      if (this.conversation) {
        Object.assign(state, { conversation: this.conversation, resumeToken: this.resumeToken });
      }
      if (this.signIn) {
        state.signIn = this.signIn;
      }
      if (Object.keys(state).length) {
        quietly(() => this.storage.setItem(this.storageKey, JSON.stringify(state)));
      } else {
        quietly(() => this.storage.removeItem(this.storageKey));
      }
    }

    /* The conversation cannot go on. */
    fail(error) {
      this.setPhase("failed");
      this.emit("error", {
        code: error.code || "config_unavailable",
        message: error.message || "",
        fatal: true,
      });
    }

    /* Something failed that the conversation survives. */
    report(error) {
      this.emit("error", { code: error.code, message: error.message || "", fatal: false });
    }

    // ---- The socket --------------------------------------------------------------------------

    connect(firstFrame) {
      const url = `${this.base.replace(/^http/, "ws")}/ws/widget/${this.config.widget_id}/`;
      const socket = new this.WebSocket(url);
      this.socket = socket;
      this.refusal = null;
      this.endReason = null;
      const connecting = setTimeout(() => {
        if (this.socket === socket) {
          this.socket = null;
          socket.close();
          this.closed(CLOSE_NO_STATUS);
        }
      }, CONNECT_TIMEOUT_MS);
      socket.onopen = () => {
        clearTimeout(connecting);
        socket.send(JSON.stringify(firstFrame));
      };
      socket.onmessage = (event) => {
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch {
          return;
        }
        if (frame && typeof frame.type === "string" && hasOwn(FRAMES, frame.type)) {
          FRAMES[frame.type].call(this, frame);
        }
      };
      socket.onclose = (event) => {
        clearTimeout(connecting);
        if (this.socket === socket) {
          this.socket = null;
          this.replaying = false;
          this.closed(event.code);
        }
      };
    }

    open() {
      return this.phase === "open" && this.socket && this.socket.readyState === SOCKET_OPEN;
    }

    transmit(frame) {
      this.socket.send(JSON.stringify(frame));
    }

    sendMessage(text) {
      this.transmit({ type: "message", text });
      this.unconfirmed.push(text);
    }

    joined(frame) {
      this.authenticated = Boolean(frame.authenticated);
      this.attempts = 0;
      this.setPhase("open");
      this.remember();
      if (this.unconfirmed.length) {
        this.replaying = true;
        this.transmit(REPLAY_END_PROBE);
      } else {
        this.flush();
      }
    }

    /* The replay is over: what it did not confirm was lost; send it again, then the outbox. */
    replayed() {
      this.replaying = false;
      const lost = this.unconfirmed.splice(0);
      this.outbox.unshift(...lost);
      this.flush();
    }

    flush() {
      for (const text of this.outbox.splice(0)) {
        this.sendMessage(text);
      }
    }

    /* A visitor message of this conversation: the echo of a text sent (from here, in order; a
       text skipped over was refused, as one socket's messages are stored in order). */
    confirm(text) {
      const sent = this.unconfirmed.indexOf(text);
      if (sent !== -1) {
        this.unconfirmed.splice(0, sent + 1);
      }
    }

    /* A guest's conversation signs in once the page has a token (after signing in on the page
       and reloading). Where the widget takes no sign-in mid-chat, the platform says so
       (upgrade_not_allowed). A code flow upgrades only with a sign-in already held: asking the
       page for a code could send the visitor away mid-chat. */
    upgrade() {
      const authentication = this.config.authentication;
      if (!authentication || this.upgradeTried) {
        return;
      }
      if (CODE_FLOWS.includes(authentication.type) && !this.signIn) {
        return;
      }
      this.upgradeTried = true;
      this.signInToken().then(
        (token) => this.authenticate(token),
        () => {}, // still a guest, as the visitor already sees
      );
    }

    closed(code) {
      const refusal = this.refusal;
      if (code === CLOSE_UNAUTHENTICATED) {
        this.dropSessionToken();
      }
      if (code === CLOSE_ENDED || (refusal && refusal.code === "resume_invalid")) {
        const ended = { conversation: this.conversation, reason: this.endReason };
        this.close();
        this.setPhase("ended");
        this.emit("closed", ended);
      } else if (refusal || (code >= 4400 && code < 4500)) {
        this.fail(refusal || new TransportError("bad_frame", "Closed with code " + code));
      } else if (this.conversation) {
        this.reconnectLater();
      } else {
        this.fail(new TransportError("connection_failed", "Closed with code " + code));
      }
    }

    reconnectLater() {
      const step = RECONNECT_DELAYS_MS[Math.min(this.attempts, RECONNECT_DELAYS_MS.length - 1)];
      this.attempts += 1;
      this.setPhase("reconnecting");
      this.emit("reconnecting", { attempt: this.attempts });
      this.reconnectTimer = setTimeout(() => this.reconnect(), step * (0.75 + Math.random() / 2));
    }

    reconnect() {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      const frame = {
        type: "resume",
        conversation: this.conversation,
        resume_token: this.resumeToken,
      };
      if (this.lastId) {
        frame.after = this.lastId;
      }
      this.connect(frame);
    }

    /* The platform asks for a fresh sign-in before the conversation's runs out: a refreshed
       session token for the code flows (never a new code, which could send the visitor away
       mid-chat), the page's JWT again for the implicit flow. */
    reauthenticate() {
      const authentication = this.config.authentication;
      if (!authentication) {
        return;
      }
      const fresh = CODE_FLOWS.includes(authentication.type)
        ? this.signInToken({ refresh: true })
        : this.ask(this.authToken, authentication);
      fresh.then(
        (token) => this.authenticate(token),
        (error) => {
          if (SIGN_IN_ENDED.includes(error.code)) {
            this.dropSignIn();
          }
          this.report(error);
        },
      );
    }

    // ---- Sign-in -----------------------------------------------------------------------------

    /* The token for a start or authenticate frame: the page's JWT, or a session token of the
       platform for the code flows (with `refresh`, a newly refreshed one). */
    signInToken({ refresh = false } = {}) {
      const authentication = this.config.authentication;
      if (!CODE_FLOWS.includes(authentication.type)) {
        return this.ask(this.authToken, authentication);
      }
      if (!this.pendingSignIn) {
        const token = refresh
          ? this.refreshedSessionToken()
          : this.sessionToken(authentication);
        this.pendingSignIn = token.finally(() => {
          this.pendingSignIn = null;
        });
      }
      return this.pendingSignIn;
    }

    async ask(provider, authentication) {
      if (!provider) {
        throw new TransportError("provider_no_token", "No sign-in was given to the transport.");
      }
      return provider(authentication);
    }

    /* The held session token while it has time left; else a refreshed one; else one for a new
       code from the page. */
    async sessionToken(authentication) {
      const signOuts = this.signOuts;
      const held = this.signIn;
      if (held && held.sessionToken && held.expiresAt - Date.now() > SESSION_MARGIN_MS) {
        return held.sessionToken;
      }
      if (held) {
        try {
          return await this.refreshedSessionToken();
        } catch (error) {
          if (!SIGN_IN_ENDED.includes(error.code)) {
            throw error;
          }
          this.dropSignIn(); // and sign in afresh
        }
      }
      const grant = await this.ask(this.authCode, authentication);
      return this.hold(await this.callSignIn("exchange", grant), signOuts);
    }

    /* A new session token from the held sign-in's refresh token. */
    async refreshedSessionToken() {
      const signOuts = this.signOuts;
      if (!this.signIn) {
        throw new TransportError("provider_no_token", "No sign-in is held to refresh.");
      }
      const pair = await this.callSignIn("refresh", { refresh_token: this.signIn.refreshToken });
      return this.hold(pair, signOuts);
    }

    /* Keep a {session_token, expires_in, refresh_token} answer, unless the page signed out
       while it was on its way; returns the session token. */
    hold(pair, signOuts) {
      if (signOuts !== this.signOuts) {
        this.callSignIn("logout", { refresh_token: pair.refresh_token }).catch(() => {});
        throw new TransportError("provider_no_token", "The page signed out during the sign-in.");
      }
      this.signIn = {
        sessionToken: pair.session_token,
        expiresAt: Date.now() + pair.expires_in * 1000,
        refreshToken: pair.refresh_token,
      };
      this.remember();
      return pair.session_token;
    }

    /* The platform refused the session token: the next start refreshes it first. */
    dropSessionToken() {
      if (this.signIn) {
        this.signIn.sessionToken = null;
        this.remember();
      }
    }

    dropSignIn() {
      this.signIn = null;
      this.remember();
    }

    /* POST to the platform's /widget/<id>/auth/<action>: the answer's JSON, or null for 204.
       Rejects with the platform's {code, detail}, or connection_failed. */
    async callSignIn(action, body) {
      if (!this.config) {
        throw new TransportError("config_unavailable", "The widget is still loading.");
      }
      const widget = encodeURIComponent(this.config.widget_id);
      let response;
      try {
        response = await fetch(`${this.base}/widget/${widget}/auth/${action}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
          credentials: "omit",
          cache: "no-store",
          keepalive: action === "logout", // a page often signs out just before it leaves
        });
      } catch (error) {
        throw new TransportError("connection_failed", String(error));
      }
      if (response.status === 204) {
        return null;
      }
      const answer = await response.json().catch(() => null);
      if (response.ok && answer) {
        return answer;
      }
      if (answer && typeof answer.code === "string") {
        throw new TransportError(answer.code, String(answer.detail || ""));
      }
      throw new TransportError("connection_failed", `${action} answered ${response.status}.`);
    }
  }

  /* Server frames, called with the transport as `this`. */
  const FRAMES = {
    started(frame) {
      this.conversation = frame.conversation;
      this.resumeToken = frame.resume_token;
      this.joined(frame);
      this.emit("started", { conversation: frame.conversation, authenticated: this.authenticated });
    },
    resumed(frame) {
      this.joined(frame);
      this.emit("resumed", { conversation: this.conversation, authenticated: this.authenticated });
      if (!this.authenticated) {
        this.upgrade();
      }
    },
    message(frame) {
      const id = String(frame.id);
      if (this.seen.has(id)) {
        return;
      }
      this.seen.add(id);
      this.lastId = id;
      if (frame.sender === "visitor") {
        this.confirm(frame.text);
      }
      this.emit("message", frame);
    },
    authenticated() {
      this.authenticated = true;
      this.emit("authenticated", { conversation: this.conversation, authenticated: true });
    },
    reauthenticate(frame) {
      const expiresIn = Number(frame.expires_in);
      this.emit("reauthenticate", {
        conversation: this.conversation,
        expires_in: Number.isFinite(expiresIn) ? expiresIn : null,
      });
      this.reauthenticate();
    },
    closed(frame) {
      this.endReason = typeof frame.reason === "string" ? frame.reason : null;
    },
    error(frame) {
      const error = new TransportError(String(frame.code), String(frame.detail || ""));
      if (this.phase === "open" && this.replaying) {
        this.replayed(); // the probe's refusal: nothing else was sent since `resumed`
      } else if (this.phase === "open") {
        this.report(error); // the socket stays open
      } else {
        this.refusal = error; // the close that follows says the rest
      }
    },
  };

  function hasOwn(object, name) {
    return Object.prototype.hasOwnProperty.call(object, name);
  }

  global.ContactCenterTransport = ContactCenterTransport;
  if (typeof module === "object" && module && module.exports) {
    module.exports = { ContactCenterTransport }; // require() in Node and React Native bundlers
  }
})(globalThis);
