// The wizard's channel type step: offer only the authentication types of the chosen channel.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const channel = document.querySelector("select[name$='-channel_type']");
  const type = document.querySelector("select[name$='-authentication_type']");
  if (!channel || !type) return;
  const fit = (keepChoice) => {
    const options = Array.from(type.options);
    for (const option of options) {
      const fits = option.dataset.channelType === channel.value;
      option.hidden = !fits;
      option.disabled = !fits;
    }
    const chosen = type.options[type.selectedIndex];
    if (!keepChoice || !chosen || chosen.disabled) {
      const fallback = options.find((o) => !o.disabled && o.dataset.default === "True");
      if (fallback) type.value = fallback.value;
    }
  };
  channel.addEventListener("change", () => fit(false));
  fit(true);
});
