// The status page: fetches status.json every second and redraws. Plain DOM,
// text only through textContent (script output is shown as text, never HTML).
"use strict";

const REFRESH_MS = 1000;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function severity(state) {
  if (state === "OK") return "ok";
  if (/DISCONNECTED|BANNED|DELETED/.test(state)) return "bad";
  if (/UNHEALTHY/.test(state)) return "warn";
  return "off";
}

function clock(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

function duration(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function replace(id, nodes) {
  document.getElementById(id).replaceChildren(...nodes);
}

function render(s) {
  const leader = s.leader === null ? "no leader" : `leader node ${s.leader}`;
  const ok = s.nodes.filter((n) => n.state === "OK").length;
  const summary = document.getElementById("summary");
  summary.replaceChildren(
    el("strong", {}, `${ok} of ${s.nodes.length} nodes OK`),
    `, ${leader}, generation ${s.generation}, ${s.recoveryMode === "NORMAL" ? "normal" : "in recovery"} · seen from node ${s.pnn} (${s.runstate})`,
  );

  replace(
    "nodes",
    s.nodes.map((n) => {
      const tags = n.flags.length === 0 ? [el("span", { class: "tag ok" }, "OK")] : n.flags.map((f) => el("span", { class: `tag ${severity(f)}` }, f));
      if (n.leader) tags.unshift(el("span", { class: "tag leader" }, "LEADER"));
      if (n.thisNode) tags.push(el("span", { class: "tag me" }, "this node"));
      return el(
        "li",
        { class: `node ${severity(n.state)}`, "data-pnn": String(n.pnn), "data-state": n.state },
        el("div", { class: "top" }, el("span", { class: "name" }, `Node ${n.pnn}`), el("span", { class: "addr" }, n.address)),
        el("div", { class: "tags" }, ...tags),
      );
    }),
  );

  const tbody = document.querySelector("#addresses tbody");
  tbody.replaceChildren(
    ...s.addresses.map((a) => el("tr", {}, el("td", {}, a.address), el("td", {}, a.pnn === null ? "unassigned" : `node ${a.pnn}`))),
  );
  document.getElementById("addresses").hidden = s.addresses.length === 0;
  document.getElementById("no-addresses").hidden = s.addresses.length !== 0;

  const runs = s.takeovers || [];
  document.getElementById("takeovers-section").hidden = runs.length === 0;
  replace(
    "takeovers",
    runs.map((r) =>
      el(
        "div",
        { class: "run" },
        el(
          "div",
          { class: "run-head" },
          el("strong", {}, `Run ${r.run}`),
          el("span", { class: `tag ${r.result === "OK" ? "ok" : r.result === "RUNNING" ? "off" : "bad"}` }, r.result),
          el("span", { class: "muted" }, `${clock(r.startedMs)}${r.durationMs === null ? "" : ` · ${duration(r.durationMs)}`}${r.reasons.length ? ` · ${r.reasons.join(", ")}` : ""}`),
        ),
        r.error ? el("div", { class: "out" }, r.error) : null,
        r.steps.length === 0
          ? el("div", { class: "muted" }, "nothing moved")
          : el("ol", { class: "steps" }, ...r.steps.map((st) => el("li", {}, el("time", {}, `+${duration(st.afterMs)}`), el("span", {}, st.text)))),
      ),
    ),
  );

  const recent = s.timeline.slice(-15).reverse();
  replace(
    "timeline",
    recent.map((t) => el("li", {}, el("time", { datetime: new Date(t.atMs).toISOString() }, clock(t.atMs)), el("span", {}, t.text))),
  );
  document.getElementById("timeline").hidden = recent.length === 0;
  document.getElementById("no-timeline").hidden = recent.length !== 0;

  const rows = s.events.map((ev) =>
    el(
      "tr",
      {},
      el("td", {}, el("div", { class: "ev" }, ev.event), el("span", { class: `tag ${ev.status === "OK" ? "ok" : "bad"}` }, ev.status)),
      el(
        "td",
        {},
        ...(ev.scripts.length === 0
          ? [el("span", { class: "muted" }, "no scripts enabled")]
          : ev.scripts.map((sc) =>
              el(
                "div",
                { class: "script" },
                el("span", { class: `dot ${sc.status === "OK" ? "ok" : sc.status === "DISABLED" ? "off" : "bad"}`, title: sc.status }),
                el("span", {}, sc.name),
                el("span", { class: "muted" }, ` ${sc.status === "OK" ? "" : `${sc.status} · `}${duration(sc.durationMs)}`),
                sc.output && sc.status !== "OK" ? el("div", { class: "out" }, sc.output.trim()) : null,
              ),
            )),
      ),
      el("td", { class: "num" }, ev.finishedMs > 0 ? clock(ev.finishedMs) : "", el("div", { class: "muted" }, duration(ev.durationMs))),
    ),
  );
  const table = el(
    "table",
    { class: "grid" },
    el("thead", {}, el("tr", {}, el("th", {}, "Event"), el("th", {}, "Scripts"), el("th", { class: "num" }, "Last run"))),
    el("tbody", {}, ...rows),
  );
  replace("events", s.events.length === 0 ? [] : [table]);
  document.getElementById("no-events").hidden = s.events.length !== 0;
  document.getElementById("updated").textContent = `updated ${clock(s.nowMs)}`;
  document.title = `${ok === s.nodes.length ? "✓" : "!"} Tandem: ${ok}/${s.nodes.length} OK`;
}

async function refresh() {
  try {
    const res = await fetch("status.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    render(await res.json());
    document.getElementById("stale").hidden = true;
  } catch {
    document.getElementById("stale").hidden = false;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
