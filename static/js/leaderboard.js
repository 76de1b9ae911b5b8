// Keep the server-rendered leaderboard live over /ws/leaderboard/.
// Without JavaScript the page still shows the boards as rendered. With it,
// every update moves rows (FLIP animation, none under prefers-reduced-motion),
// shows each row's change since the page was opened, announces rises through
// an aria-live region, acknowledges updates (the server stops sending to
// clients that fall behind) and reconnects with backoff after a restart.
(function () {
  "use strict";

  const root = document.querySelector(".lb[data-ws-path]");
  if (!root || !("WebSocket" in window)) return;

  const statusBox = root.querySelector(".lb-status");
  const statusText = root.querySelector(".lb-status-text");
  const announcer = document.getElementById("lb-announcer");
  const postUrl = root.dataset.postUrl || "";
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  const HIGHLIGHT_MS = 1600;
  const ACK_DELAY_MS = 300;
  const POLICY_BACKOFF_ATTEMPT = 4; // 4 s to 8 s before retrying a refused socket

  // What each board looked like when the visitor opened the page.
  const baseline = new Map();
  root.querySelectorAll(".lb-board").forEach((section) => {
    const seen = new Map();
    section.querySelectorAll("tbody tr[data-member]").forEach((row) => {
      seen.set(row.dataset.member, {
        rank: Number(row.dataset.rank),
        score: Number(row.dataset.score),
      });
    });
    baseline.set(section.dataset.board, seen);
  });

  let socket = null;
  let attempt = 0;
  let reconnectTimer = null;
  let pendingAck = 0;
  let ackTimer = null;
  let refused = false; // the last close was a policy refusal (1008)
  let pendingAnnouncements = [];
  let announceTimer = null;

  function setStatus(state, text) {
    statusBox.dataset.state = state;
    statusText.textContent = text;
  }

  function announce(message) {
    pendingAnnouncements.push(message);
    if (announceTimer) return;
    // Screen readers get one sentence every couple of seconds, not a flood.
    announceTimer = window.setTimeout(() => {
      const shown = pendingAnnouncements.slice(0, 3);
      const more = pendingAnnouncements.length - shown.length;
      announcer.textContent = shown.join(" ") + (more > 0 ? ` And ${more} more changes.` : "");
      pendingAnnouncements = [];
      announceTimer = null;
    }, 2000);
  }

  function cell(className) {
    const td = document.createElement("td");
    td.className = className;
    return td;
  }

  function newRow() {
    const row = document.createElement("tr");
    row.append(cell("lb-rank"), cell("lb-label"), cell("lb-score"), cell("lb-change"));
    return row;
  }

  function setLabel(td, entry, labelled) {
    const href = labelled && postUrl ? postUrl.replace("{id}", encodeURIComponent(entry.member)) : "";
    const current = td.firstElementChild;
    if (href) {
      const link = current && current.tagName === "A" ? current : document.createElement("a");
      link.href = href;
      link.textContent = entry.label;
      if (link !== current) td.replaceChildren(link);
    } else if (td.textContent !== entry.label || current) {
      td.textContent = entry.label;
    }
  }

  function change(td, before, entry) {
    const parts = [];
    if (!before) {
      parts.push(["lb-new", "new", "new since you came"]);
    } else if (before.rank > entry.rank) {
      const n = before.rank - entry.rank;
      parts.push(["lb-rose", `▲ ${n}`, `up ${n} since you came`]);
    } else if (before.rank < entry.rank) {
      const n = entry.rank - before.rank;
      parts.push(["lb-fell", `▼ ${n}`, `down ${n} since you came`]);
    }
    const gained = entry.score - (before ? before.score : 0);
    if (gained > 0) parts.push(["lb-gain", `+${gained}`, `${gained} more since you came`]);
    if (!parts.length) parts.push(["lb-same", "–", "no change since you came"]);
    // Symbols for the eye, words for screen readers (aria-label is not
    // reliably read on a plain span).
    td.replaceChildren(
      ...parts.flatMap(([className, text, spoken]) => {
        const shown = document.createElement("span");
        shown.className = className;
        shown.textContent = text;
        shown.title = spoken;
        shown.setAttribute("aria-hidden", "true");
        const said = document.createElement("span");
        said.className = "lb-visually-hidden";
        said.textContent = spoken;
        return [shown, said];
      }),
    );
  }

  function flash(row, className) {
    row.classList.remove("lb-moved-up", "lb-moved-down", "lb-bumped");
    void row.offsetWidth; // restart the animation
    row.classList.add(className);
    window.setTimeout(() => row.classList.remove(className), HIGHLIGHT_MS);
  }

  function renderBoard(board) {
    const section = root.querySelector(`.lb-board[data-board="${CSS.escape(board.name)}"]`);
    if (!section) return;
    const title = section.querySelector("h2").textContent;
    const tbody = section.querySelector("tbody");
    const labelled = board.unit === "views";
    const seen = baseline.get(board.name) || new Map();
    const existing = new Map();
    const before = new Map();
    tbody.querySelectorAll("tr[data-member]").forEach((row) => {
      existing.set(row.dataset.member, row);
      before.set(row.dataset.member, row.getBoundingClientRect().top);
    });

    const rows = board.entries.map((entry) => {
      const row = existing.get(entry.member) || newRow();
      existing.delete(entry.member);
      const oldRank = row.dataset.rank ? Number(row.dataset.rank) : null;
      const oldScore = row.dataset.score ? Number(row.dataset.score) : null;
      row.dataset.member = entry.member;
      row.dataset.rank = String(entry.rank);
      row.dataset.score = String(entry.score);
      row.children[0].textContent = String(entry.rank);
      setLabel(row.children[1], entry, labelled);
      row.children[2].textContent = String(entry.score);
      change(row.children[3], seen.get(entry.member), entry);
      if (oldRank === null || entry.rank < oldRank) {
        flash(row, "lb-moved-up");
        announce(`${entry.label} ${oldRank === null ? "entered" : "moved up to"} rank ${entry.rank} on ${title}.`);
      } else if (entry.rank > oldRank) {
        flash(row, "lb-moved-down");
      } else if (entry.score !== oldScore) {
        flash(row, "lb-bumped");
      }
      return row;
    });
    existing.forEach((row) => row.remove());
    if (rows.length) {
      tbody.replaceChildren(...rows);
    } else {
      const empty = document.createElement("tr");
      empty.className = "lb-empty";
      const td = document.createElement("td");
      td.colSpan = 4;
      td.textContent = "Nothing yet.";
      empty.append(td);
      tbody.replaceChildren(empty);
    }

    if (reducedMotion.matches) return;
    // FLIP: start each moved row where it was, then let it slide into place.
    rows.forEach((row) => {
      const top = before.get(row.dataset.member);
      if (top === undefined) return;
      const delta = top - row.getBoundingClientRect().top;
      if (!delta) return;
      row.style.transition = "none";
      row.style.transform = `translateY(${delta}px)`;
      void row.offsetWidth;
      row.style.transition = "";
      row.style.transform = "";
    });
  }

  function onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (!message || message.type !== "boards") return;
    message.boards.forEach(renderBoard);
    root.dataset.version = String(message.version);
    scheduleAck(message.seq);
  }

  // Acknowledge the newest update a moment later rather than each at once:
  // the server's work for acks then falls outside the burst in which it
  // sends one update to every open page.
  function scheduleAck(seq) {
    pendingAck = seq;
    if (ackTimer) return;
    ackTimer = window.setTimeout(() => {
      ackTimer = null;
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "ack", seq: pendingAck }));
      }
    }, ACK_DELAY_MS);
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter spreads a restart's reconnects
    attempt += 1;
    setStatus("reconnecting", `Not live; reconnecting in ${Math.ceil(delay / 1000)} s…`);
    reconnectTimer = window.setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    setStatus("connecting", "Connecting…");
    socket = new WebSocket(`${scheme}//${window.location.host}${root.dataset.wsPath}`);
    socket.addEventListener("open", () => {
      window.clearTimeout(ackTimer); // a new socket counts its updates from 1
      ackTimer = null;
      attempt = 0;
      refused = false;
      setStatus("live", "Live: boards update as readers view and comment.");
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", (event) => {
      socket = null;
      if (event.code === 1008) {
        // Refused by policy (too many open tabs, or this tab fell behind while
        // asleep): try again, but slowly, and the page stays usable meanwhile.
        attempt = Math.max(attempt, POLICY_BACKOFF_ATTEMPT);
        refused = true;
      }
      scheduleReconnect();
    });
  }

  document.addEventListener("visibilitychange", () => {
    // A tab woken from sleep reconnects now rather than after its backoff.
    if (document.visibilityState === "visible" && !socket && reconnectTimer && !refused) {
      window.clearTimeout(reconnectTimer);
      reconnectTimer = null;
      connect();
    }
  });

  connect();
})();
