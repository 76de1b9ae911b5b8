// Live numbers on the staff pages: overview refresh, TTL countdowns, memory sampling.
(function () {
  "use strict";

  function formatBytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    n = Number(n);
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i ? n.toFixed(1) : n) + "\u00a0" + units[i];
  }

  function formatField(el, value) {
    switch (el.dataset.format) {
      case "percent": return value === null ? "–" : Math.round(value * 100) + "%";
      case "bytes": return formatBytes(value);
      case "onoff": return value ? "on" : "off";
      case "yesno": return value ? "yes" : "no";
      case "epoch": return value ? new Date(value * 1000).toLocaleString() : "never";
      default: return value === null ? "–" : String(value);
    }
  }

  function startLiveRefresh(container) {
    const url = container.dataset.liveUrl;
    const interval = Number(container.dataset.liveInterval || 2000);
    async function refresh() {
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (response.ok) {
          const data = await response.json();
          container.querySelectorAll("[data-field]").forEach((el) => {
            const name = el.dataset.field;
            if (name in data) {
              el.textContent = name === "maxmemory" && !data[name] ? "no limit" : formatField(el, data[name]);
            }
          });
          container.dataset.refreshedAt = String(Date.now());
        }
      } catch (err) { /* the next tick tries again */ }
      setTimeout(refresh, interval);
    }
    setTimeout(refresh, interval);
  }

  function startTtlCountdowns() {
    const started = Date.now();
    const ttls = Array.from(document.querySelectorAll("[data-ttl-ms]"));
    if (!ttls.length) return;
    setInterval(() => {
      const elapsed = Date.now() - started;
      ttls.forEach((el) => {
        const left = Number(el.dataset.ttlMs) - elapsed;
        el.textContent = left > 0 ? Math.ceil(left / 1000) + " s" : "expired";
      });
    }, 1000);
  }

  function startMemoryRunner(form) {
    const progress = document.querySelector("[data-memory-progress]");
    const target = document.querySelector("[data-memory-report]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = new FormData(form);
      await fetch(window.location.pathname, { method: "POST", body, credentials: "same-origin" });
      for (let i = 0; i < 1000; i += 1) {
        const response = await fetch(window.location.pathname + "?step=1&format=json", { credentials: "same-origin" });
        if (!response.ok) { progress.textContent = "The sample stopped: HTTP " + response.status; return; }
        const data = await response.json();
        progress.textContent = data.sampled + " of about " + data.target + " keys sampled" + (data.done ? " — done." : "…");
        target.innerHTML = data.html;
        if (data.done) return;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-live-url]").forEach(startLiveRefresh);
    startTtlCountdowns();
    const runner = document.querySelector("[data-memory-runner]");
    if (runner) startMemoryRunner(runner);
  });
})();
