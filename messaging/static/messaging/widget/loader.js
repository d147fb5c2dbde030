/*
 * Contact center chat widget loader.
 *
 *   <script src="<base>/widget/loader.js" data-deployment-id="<uuid>" async></script>
 *
 * Finds its own script tag, takes the platform's base URL from its src, defines the page's API
 * (window.ContactCenter) and loads the widget's stylesheet and script from the platform.
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
  const assets = base + "/static/messaging/widget/";

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
  stylesheet.href = assets + "widget.css";
  document.head.appendChild(stylesheet);

  const widget = document.createElement("script");
  widget.src = assets + "widget.js";
  widget.async = true;
  widget.dataset.base = base;
  widget.dataset.deploymentId = deploymentId;
  document.head.appendChild(widget);
})();
