{% load static %}/*
 * Contact center chat widget loader.
 *
 *   <script src="<base>/widget/loader.js" data-deployment-id="<uuid>" async></script>
 *
 * data-sign-in-url="<address>" on the tag names the page where visitors sign in: a visitor
 * who must sign in to chat gets a "Sign in to chat" link to it.
 *
 * Finds its own script tag, takes the platform's base URL from its src, defines the page's API
 * (window.ContactCenter) and loads the widget's stylesheet and scripts from the platform.
 * Served from a template: the files are named by their content's hash, so that a page never
 * mixes files of two versions of the widget.
 */
(function () {
  "use strict";

  if (window.ContactCenter && window.ContactCenter.loaded) {
    return; // The snippet was pasted twice: one widget is enough.
  }

  const script =
    document.currentScript || document.querySelector("script[data-deployment-id]");
  const deploymentId = script && script.getAttribute("data-deployment-id");
  if (!deploymentId) {
    console.error("ContactCenter: the widget's script tag has no data-deployment-id.");
    return;
  }
  const src = new URL(script.src, document.baseURI);
  const base = src.origin + src.pathname.replace(/\/widget\/loader\.js$/, "");

  let tokenProvider = null;
  const api = {
    loaded: true,
    /* A page's own way to hand the widget a token: fn(callback) or fn() returning a Promise. */
    setAuthTokenProvider(provider) {
      if (typeof provider !== "function") {
        throw new TypeError("ContactCenter.setAuthTokenProvider takes a function.");
      }
      tokenProvider = provider;
    },
    getAuthTokenProvider() {
      return tokenProvider;
    },
    removeAuthTokenProvider() {
      tokenProvider = null;
    },
  };
  window.ContactCenter = Object.assign(window.ContactCenter || {}, api);

  const stylesheet = document.createElement("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = base + "{% static 'messaging/widget/widget.css' %}";
  document.head.appendChild(stylesheet);

  function addScript(path, data) {
    const file = document.createElement("script");
    file.src = base + path;
    file.async = false; // the transport, the pane, then the widget that drives them
    Object.assign(file.dataset, data);
    document.head.appendChild(file);
  }
  addScript("{% static 'messaging/widget/transport.js' %}");
  addScript("{% static 'messaging/widget/pane.js' %}");
  const signInUrl = script.getAttribute("data-sign-in-url");
  addScript("{% static 'messaging/widget/widget.js' %}", {
    base,
    deploymentId,
    ...(signInUrl ? { signInUrl } : {}),
  });
})();
