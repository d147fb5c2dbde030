/*
 * The chat widget on a page, loaded by loader.js after transport.js and pane.js: drives a
 * ContactCenterTransport with the page's sign-in and shows its conversation in a
 * ContactCenterPane.
 *
 * Events on window: contactcenter:ready, contactcenter:error (detail: {code, message, detail}).
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const base = script.dataset.base;
  const deploymentId = script.dataset.deploymentId;
  const storageKey = "contactcenter:" + deploymentId;
  const PROVIDER_TIMEOUT_SECONDS = 10;

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
  const STATUS = {
    authorizing: "Signing you in\u2026",
    connecting: "Connecting\u2026",
    reconnecting: "Connection lost. Reconnecting\u2026",
  };

  function messageFor(code) {
    return MESSAGES[code] || FALLBACK_MESSAGE;
  }

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent("contactcenter:" + name, { detail }));
  }

  function refusal(code, detail) {
    return Object.assign(new Error(detail), { code });
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
     also return a Promise of nothing, which is then ignored. Rejects with an error whose
     code is provider_failed, provider_no_token or provider_timeout. */
  function askPage(kind, authentication) {
    const functionName = authentication.javascript_client_function;
    return new Promise((resolve, reject) => {
      const provider = window.ContactCenter.getAuthTokenProvider() || pageFunction(functionName);
      let settled = false;
      const timer = setTimeout(() => {
        const detail = `No ${kind.name} within ${PROVIDER_TIMEOUT_SECONDS} seconds.`;
        settle(reject, refusal("provider_timeout", detail));
      }, PROVIDER_TIMEOUT_SECONDS * 1000);
      function settle(outcome, value) {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          outcome(value);
        }
      }
      function failed(error) {
        const detail = error && error.message ? error.message : String(error);
        settle(reject, refusal("provider_failed", detail));
      }
      function accept(answer) {
        if (answer === null || answer === undefined || answer === "") {
          settle(reject, refusal("provider_no_token", `The page gave no ${kind.name}.`));
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

  /* The transport's state in the tab's sessionStorage, with whether the pane was open. */
  const tabStorage = {
    state: null,
    paneOpen: () => false,
    load() {
      try {
        return JSON.parse(window.sessionStorage.getItem(storageKey));
      } catch {
        return null;
      }
    },
    save(state) {
      this.state = state;
      const stored = state.conversation ? { ...state, open: this.paneOpen() } : state;
      try {
        window.sessionStorage.setItem(storageKey, JSON.stringify(stored));
      } catch {
        // Storage may be switched off; the chat works without resuming after a reload.
      }
    },
    clear() {
      this.state = null;
      try {
        window.sessionStorage.removeItem(storageKey);
      } catch {
        // As above.
      }
    },
    /* Write the state again after the pane opened or closed. */
    rewrite() {
      if (this.state) {
        this.save(this.state);
      }
    },
  };

  // ---- Start up -----------------------------------------------------------------------------

  function init() {
    const saved = tabStorage.load() || {};
    const transport = new ContactCenterTransport({
      domain: base,
      deploymentId,
      storage: tabStorage,
      authToken: (authentication) => askPage(JWT, authentication),
      authCode: (authentication) => askPage(AUTHORIZATION_CODE, authentication),
    });

    /* Start a new conversation in an empty pane. */
    function begin() {
      pane.clear();
      transport.close();
      transport.start();
    }

    const pane = new ContactCenterPane({
      onOpen: () => transport.phase === "idle" && begin(),
      onToggle: () => tabStorage.rewrite(),
      onSend: (text) => transport.send(text),
      onRetry: begin,
    });
    tabStorage.paneOpen = () => pane.isOpen();

    transport.on("phase", ({ phase }) => {
      pane.setStatus(STATUS[phase] || "");
      pane.setComposing(!["failed", "ended"].includes(phase));
    });
    const joined = ({ authenticated }) => {
      pane.hideAlert();
      pane.showIdentity(authenticated);
    };
    transport.on("started", joined);
    transport.on("resumed", joined);
    transport.on("authenticated", () => pane.showIdentity(true));
    transport.on("message", (frame) => pane.appendMessage(frame));
    transport.on("closed", () => pane.showAlert(MESSAGES.resume_invalid, "Start a new chat"));
    transport.on("error", ({ code, message: detail, fatal }) => {
      const message = messageFor(code);
      pane.showAlert(message, fatal ? "Try again" : null);
      emit("error", { code, message, detail });
    });

    /* Forget the conversation and end the sign-in; resolves once the platform knows. */
    window.ContactCenter.clearSession = () => {
      pane.clear();
      return transport.logout();
    };
    window.addEventListener("online", () => transport.reconnectNow());

    transport.loadConfig().then(
      (config) => {
        if (transport.conversation) {
          transport.start(); // a reload: the whole transcript comes back
          if (saved.open) {
            pane.show();
          }
        }
        emit("ready", { deploymentId, widgetId: config.widget_id });
      },
      (error) => {
        emit("error", { code: error.code, message: messageFor(error.code), detail: error.message });
      },
    );
  }

  if (document.body) {
    init();
  } else {
    document.addEventListener("DOMContentLoaded", init);
  }
})();
