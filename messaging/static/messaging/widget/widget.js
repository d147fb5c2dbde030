/*
 * The chat widget on a page, loaded by loader.js after transport.js and pane.js: drives a
 * ContactCenterTransport with the page's sign-in and shows its conversation in a
 * ContactCenterPane.
 *
 * Events on window (each a CustomEvent named "contactcenter:<name>", with its detail):
 *   ready {deploymentId, widgetId}; error {code, message, detail};
 *   authenticated {conversation}: the conversation is signed in (at its start or later);
 *   reauthenticating {conversation, expiresIn}: the platform asked for a fresh sign-in;
 *   closed {conversation, reason}: the conversation has ended (agent, logout, abandoned);
 *   loggedout {}: ContactCenter.logout() has ended the sign-in, with the platform too.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const base = script.dataset.base;
  const deploymentId = script.dataset.deploymentId;
  const paneKey = "contactcenter:" + deploymentId + ":open";
  const PROVIDER_TIMEOUT_SECONDS = 10;
  // Refusals that a sign-in answers: with a sign-in address known, the alert links to it.
  const SIGN_IN_CODES = ["provider_no_token", "token_missing", "token_expired", "token_revoked"];

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

  /* `address` resolved against the page as an http(s) URL, or null. */
  function webAddress(address) {
    if (typeof address !== "string" || !address) {
      return null;
    }
    try {
      const url = new URL(address, document.baseURI);
      return ["http:", "https:"].includes(url.protocol) ? url.href : null;
    } catch {
      return null;
    }
  }

  // Where the page signs visitors in: the snippet's data-sign-in-url, unless the page's
  // provider names another when it has no sign-in to give.
  let signInUrl = webAddress(script.dataset.signInUrl);

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
     also return a Promise of nothing, which is then ignored. A provider without a sign-in to
     give may answer {sign_in_url} to say where the visitor signs in. Rejects with an error
     whose code is provider_failed, provider_no_token or provider_timeout. */
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
        const signIn = answer && typeof answer === "object" && webAddress(answer.sign_in_url);
        if (signIn && !answer.code) {
          signInUrl = signIn;
        }
        if (answer === null || answer === undefined || answer === "" || (signIn && !answer.code)) {
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

  /* The tab's sessionStorage: the conversation resumes after a reload, not in another tab.
     Storage may be switched off (reading the property then throws); the chat works without
     it, in memory. */
  function tabStorage() {
    try {
      return window.sessionStorage;
    } catch {
      return undefined;
    }
  }

  /* Whether the pane was open, kept beside the transport's state for a reload. */
  const paneMemory = {
    keep(storage, open) {
      try {
        if (open) {
          storage.setItem(paneKey, "1");
        } else {
          storage.removeItem(paneKey);
        }
      } catch {
        // As above.
      }
    },
    wasOpen(storage) {
      try {
        return Boolean(storage.getItem(paneKey));
      } catch {
        return false;
      }
    },
  };

  // ---- Start up -----------------------------------------------------------------------------

  function init() {
    const storage = tabStorage();
    const transport = new ContactCenterTransport({
      domain: base,
      deploymentId,
      storage,
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
      onToggle: () => storage && paneMemory.keep(storage, pane.isOpen()),
      onSend: (text) => transport.send(text),
      onRetry: begin,
    });

    transport.on("phase", ({ phase }) => {
      pane.setStatus(STATUS[phase] || "");
      pane.setComposing(!["failed", "ended"].includes(phase));
    });
    // The conversation the page was last told is signed in: told once per conversation.
    let signedIn = null;
    const authenticated = ({ conversation }) => {
      pane.showIdentity(true);
      if (signedIn !== conversation) {
        signedIn = conversation;
        emit("authenticated", { conversation });
      }
    };
    const joined = (joining) => {
      pane.hideAlert();
      pane.showIdentity(joining.authenticated);
      if (joining.authenticated) {
        authenticated(joining);
      }
    };
    transport.on("started", joined);
    transport.on("resumed", joined);
    transport.on("authenticated", authenticated);
    transport.on("reauthenticate", ({ conversation, expires_in: expiresIn }) => {
      emit("reauthenticating", { conversation, expiresIn });
    });
    transport.on("message", (frame) => pane.appendMessage(frame));
    transport.on("closed", ({ conversation, reason }) => {
      pane.showAlert(MESSAGES.resume_invalid, "Start a new chat");
      emit("closed", { conversation, reason });
    });
    transport.on("error", ({ code, message: detail, fatal }) => {
      const message = messageFor(code);
      const signIn = SIGN_IN_CODES.includes(code) ? signInUrl : null;
      pane.showAlert(message, fatal ? "Try again" : null, signIn);
      emit("error", { code, message, detail });
    });

    /* Forget the conversation and end the sign-in; resolves once the platform knows. */
    window.ContactCenter.logout = async () => {
      pane.clear();
      if (pane.isOpen()) {
        pane.hide(); // opening it again starts a new conversation
      }
      signedIn = null;
      await transport.logout();
      emit("loggedout", {});
    };
    window.ContactCenter.clearSession = window.ContactCenter.logout;
    window.addEventListener("online", () => transport.reconnectNow());

    Promise.all([transport.loadConfig(), transport.restore()]).then(
      ([config]) => {
        if (transport.conversation) {
          transport.start(); // a reload: the whole transcript comes back
          if (storage && paneMemory.wasOpen(storage)) {
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
