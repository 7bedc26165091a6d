// The gpu_bo dashboard page: the study list ("/") and a study ("/study/NAME").
// Every name, value and error is put in the page with textContent or canvas fillText, never
// as HTML. window.gbDashboard tells tests (and the load benchmark) what was drawn.
"use strict";
(function () {
  const C = window.GBCharts, POLL_MS = 1500, ROWS = 500;
  const state = { page: null, ready: false, counts: {}, renders: 0, seq: 0, errors: [] };
  window.gbDashboard = state;
  const root = document.getElementById("root");

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") { e.textContent = v; } else if (k === "on") { Object.entries(v).forEach(([t, f]) => e.addEventListener(t, f)); }
      else { e.setAttribute(k, v); }
    }
    kids.forEach(c => e.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
    return e;
  }
  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    const body = await r.json();
    if (!r.ok) { throw new Error(body.error || r.statusText); }
    return body;
  }
  function show(v) {
    if (v === null || v === undefined) { return "-"; }
    return typeof v === "number" ? C.fmt(v) : (typeof v === "string" ? v : JSON.stringify(v));
  }
  function when(t) { return t ? new Date(t * 1000).toLocaleString() : "-"; }
  function live(text) { document.getElementById("live").textContent = text; }

  // -- the study list --------------------------------------------------------------------------
  async function listPage() {
    state.page = "list";
    const studies = await getJSON("/api/studies");
    const rows = studies.map(s => el("tr", { class: "study" },
      el("td", {}, el("a", { href: "/study/" + encodeURIComponent(s.name), text: s.name })),
      el("td", { text: s.directions.join(", ") }),
      el("td", { text: Object.entries(s.states).filter(([, n]) => n).map(([k, n]) => `${n} ${k.toLowerCase()}`).join(", ") || "none" }),
      el("td", { text: show(s.best) }),
      el("td", { text: when(s.last_update) })));
    root.textContent = "";
    root.appendChild(el("h1", { text: `${studies.length} ${studies.length === 1 ? "study" : "studies"}` }));
    root.appendChild(el("table", { id: "studies" },
      el("tr", {}, ...["study", "direction(s)", "trials by state", "best value", "last update"].map(h => el("th", { text: h }))),
      ...rows));
    state.counts = { studies: studies.length };
    state.ready = true; state.renders++;
    live(`updated ${new Date().toLocaleTimeString()}`);
    setTimeout(() => listPage().catch(fail), 3 * POLL_MS);
  }

  // -- a study ---------------------------------------------------------------------------------
  const S = { name: null, dirs: [], space: null, params: [], trials: new Map(), filter: "ALL", sortKey: "#",
              sortDir: 1, limit: ROWS, importance: null, impDone: -1, impAt: 0, selected: null };

  function dimSpec(name) {
    const d = S.space && S.space[name];
    if (d && d.type === "categorical") { return { type: "cat", cats: d.choices }; }
    if (d && (d.type === "real" || d.type === "integer")) { return { type: d.log ? "log" : "num", lo: d.low, hi: d.high }; }
    const vals = [...S.trials.values()].map(t => t.p[name]).filter(v => v !== undefined && v !== null);
    return vals.some(v => typeof v !== "number") ? { type: "cat" } : { type: "num" };
  }
  const sign = k => (S.dirs[k] === "maximize" ? 1 : -1);
  const feasible = t => t.f !== false && !(t.c && t.c.some(x => x !== null && x > 0));
  function completed() { return [...S.trials.values()].filter(t => t.s === "COMPLETE" && t.v && t.v.every(x => x !== null)).sort((a, b) => a.n - b.n); }
  function goodness(vals) { // 0 worst .. 1 best, for colors
    const g = vals.map(v => sign(0) * v), lo = Math.min(...g), hi = Math.max(...g);
    return g.map(x => (hi > lo ? (x - lo) / (hi - lo) : 1));
  }
  function card(id, title, wide) {
    const body = el("div", { id: "chart-" + id, class: "chart" });
    const c = el("div", { class: "card" + (wide ? " wide" : "") }, el("h2", { text: title }), body);
    return [c, body];
  }
  function nondominated(pts) { // pts: minimization vectors; returns a boolean per point
    return pts.map((p, i) => !pts.some((q, j) => j !== i && q.every((x, k) => x <= p[k]) && q.some((x, k) => x < p[k])));
  }
  function hypervolume2(front, ref) { // 2 objectives, minimization
    const f = front.filter(p => p[0] < ref[0] && p[1] < ref[1]).sort((a, b) => a[0] - b[0]);
    let hv = 0, y = ref[1];
    for (const p of f) { if (p[1] < y) { hv += (ref[0] - p[0]) * (y - p[1]); y = p[1]; } }
    return hv;
  }

  function drawHistory(grid, done) {
    const multi = S.dirs.length > 1;
    const [c, body] = card("history", multi ? "hypervolume so far" : "best so far", false);
    grid.appendChild(c);
    const xs = done.map(t => t.n);
    if (!multi) { // the best of the feasible trials; every value is a gray dot
      const ys = done.map(t => t.v[0]);
      let best = null;
      const bs = done.map(t => (best = feasible(t) && (best === null || sign(0) * t.v[0] > sign(0) * best) ? t.v[0] : best));
      C.plot(body, { xlabel: "trial", ylabel: "objective", count: done.length,
        series: [{ xs, ys, color: "#90a4ae", size: 2 }, { xs, ys: bs, line: true }] });
      return;
    }
    // hypervolume of the first two objectives of the feasible trials, in minimization form, against the
    // worst feasible values seen
    const pts = done.map(t => [0, 1].map(k => -sign(k) * t.v[k]));
    const ok = done.map(feasible), okPts = pts.filter((p, i) => ok[i]);
    const ref = [0, 1].map(k => Math.max(...okPts.map(p => p[k])));
    let front = [];
    const hv = pts.map((p, i) => {
      if (ok[i] && !front.some(q => q[0] <= p[0] && q[1] <= p[1])) {
        front = front.filter(q => !(p[0] <= q[0] && p[1] <= q[1])).concat([p]);
      }
      return hypervolume2(front, ref);
    });
    C.plot(body, { xlabel: "trial", ylabel: "hypervolume (objectives 1-2)", count: done.length,
      series: [{ xs, ys: hv, color: "#90a4ae", size: 2 }, { xs, ys: hv, line: true }] });
    body.appendChild(el("p", { class: "note", text: "feasible trials only; reference point: the worst feasible value of each objective seen" }));
  }
  function drawPareto(grid, done) {
    if (S.dirs.length < 2) { return; }
    const [c, body] = card("pareto", "Pareto front (objectives 1 and 2)", false);
    grid.appendChild(c);
    // the front is non-dominated among the feasible trials; infeasible ones are drawn pale orange
    const ok = done.filter(feasible), bad = done.filter(t => !feasible(t));
    const nd = nondominated(ok.map(t => t.v.map((v, k) => -sign(k) * v)));
    const shown = ok.concat(bad);
    C.plot(body, { xlabel: "objective 1 (" + S.dirs[0] + ")", ylabel: "objective 2 (" + S.dirs[1] + ")", count: done.length,
      series: [{ xs: shown.map(t => t.v[0]), ys: shown.map(t => t.v[1]),
        colors: nd.map(b => (b ? "#d32f2f" : "#90a4ae")).concat(bad.map(() => "#ffcc80")) }] });
    body.dataset.front = String(nd.filter(Boolean).length);
    body.dataset.infeasible = String(bad.length);
    body.appendChild(el("p", { class: "note", text: "red: Pareto front of the feasible trials; gray: dominated"
      + (bad.length ? `; orange: ${bad.length} infeasible` : "") }));
  }
  function drawParallel(grid, done) {
    const [c, body] = card("parallel", "parallel coordinates", true);
    grid.appendChild(c);
    const axes = S.params.map(p => ({ label: p, spec: dimSpec(p), values: done.map(t => (p in t.p ? t.p[p] : null)) }));
    axes.push({ label: "objective", spec: { type: "num" }, values: done.map(t => t.v[0]) });
    const good = goodness(done.map(t => t.v[0]));
    C.parallel(body, { axes, colors: good.map(C.viridis) });
  }
  function drawImportance(grid) {
    const [c, body] = card("importance", "parameter importance", false);
    grid.appendChild(c);
    const imp = S.importance;
    if (!imp || !imp.available) {
      body.appendChild(el("p", { class: "note", text: imp ? "not available: " + String(imp.reason).replace(/^not available: /, "") : "computing…" }));
      body.dataset.points = "0"; body.dataset.state = imp ? "unavailable" : "pending";
      return;
    }
    const items = Object.entries(imp.shares).sort((a, b) => b[1] - a[1]);
    C.bars(body, items.map(i => i[0]), items.map(i => i[1] || 0));
    body.dataset.state = "available";
    body.appendChild(el("p", { class: "note", text: "share of the objective's variance each parameter explains (GP posterior mean)" }));
  }
  function drawSlices(grid, done) {
    const [c, body] = card("slices", "slices: the objective against each parameter", true);
    grid.appendChild(c);
    const wrap = el("div", { class: "slices" });
    body.appendChild(wrap);
    const good = goodness(done.map(t => t.v[0])).map(C.viridis);
    let total = 0;
    S.params.forEach(p => {
      const box = el("div", { class: "slice", "data-param": p });
      wrap.appendChild(box);
      const idx = done.map((t, i) => i).filter(i => p in done[i].p);
      C.plot(box, { height: 190, x: dimSpec(p), xlabel: p, ylabel: "objective",
        series: [{ xs: idx.map(i => done[i].p[p]), ys: idx.map(i => done[i].v[0]), colors: idx.map(i => good[i]), size: 2 }] });
      total += Number(box.dataset.points);
    });
    body.dataset.points = String(total);
  }
  function drawIntermediate(grid) {
    const [c, body] = card("intermediate", "intermediate values (pruned in orange)", false);
    grid.appendChild(c);
    const ts = [...S.trials.values()].filter(t => t.i.length);
    if (!ts.length) {
      body.appendChild(el("p", { class: "note", text: "no trial reported intermediate values" }));
      body.dataset.points = "0";
      return;
    }
    const series = ts.map(t => ({ xs: t.i.map(s => s[0]), ys: t.i.map(s => s[1]), line: true, width: 1,
      color: t.s === "PRUNED" ? "#ef6c00" : "#78909c" }));
    C.plot(body, { xlabel: "step", ylabel: "intermediate value", series, count: ts.length });
    body.dataset.pruned = String(ts.filter(t => t.s === "PRUNED").length);
  }

  // -- the trial table -------------------------------------------------------------------------
  function columns() {
    const vals = S.dirs.map((d, k) => [S.dirs.length > 1 ? `value ${k + 1}` : "value", t => (t.v ? t.v[k] : null)]);
    const anyC = [...S.trials.values()].some(t => t.c);
    const feas = anyC ? [["feasible", t => (t.c && t.s === "COMPLETE" ? (feasible(t) ? "yes" : "NO") : null)]] : [];
    return [["#", t => t.n], ["state", t => t.s], ...vals, ...feas, ...S.params.map(p => [p, t => t.p[p]]),
      ["constraints", t => t.c], ["seconds", t => (t.t1 && t.t0 ? t.t1 - t.t0 : null)], ["error", t => t.e]];
  }
  function cmp(a, b) {
    if (a === b) { return 0; } if (a === null || a === undefined) { return 1; } if (b === null || b === undefined) { return -1; }
    return typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
  }
  function drawTable(box) {
    box.textContent = "";
    const cols = columns(), col = cols.find(c => c[0] === S.sortKey) || cols[0];
    let ts = [...S.trials.values()].filter(t => S.filter === "ALL" || t.s === S.filter);
    ts.sort((a, b) => S.sortDir * cmp(col[1](a), col[1](b)) || a.n - b.n);
    const select = el("select", { id: "state-filter", on: { change: e => { S.filter = e.target.value; S.limit = ROWS; drawTable(box); } } },
      ...["ALL", "COMPLETE", "PRUNED", "FAILED", "RUNNING"].map(s => el("option", { value: s, text: s.toLowerCase() })));
    select.value = S.filter;
    box.appendChild(el("div", { class: "controls" }, el("label", { text: "state " }, select),
      el("span", { class: "note", id: "table-count", text: `${ts.length} trials${ts.length > S.limit ? `, showing ${S.limit}` : ""}` })));
    const head = el("tr", {}, ...cols.map(([name]) => el("th", { text: name + (name === S.sortKey ? (S.sortDir > 0 ? " ▲" : " ▼") : ""),
      "data-col": name, on: { click: () => { S.sortDir = S.sortKey === name ? -S.sortDir : 1; S.sortKey = name; drawTable(box); } } })));
    const table = el("table", { id: "trials" }, head);
    ts.slice(0, S.limit).forEach(t => {
      const tr = el("tr", { class: "trial" + (feasible(t) ? "" : " infeasible"), "data-number": String(t.n), on: { click: () => select_(t.n) } },
        ...cols.map(([name, get]) => el("td", { class: name === "state" ? "state-" + t.s : "",
          text: name === "error" && t.e ? t.e.split("\n").filter(Boolean).slice(-1)[0] : show(get(t)) })));
      table.appendChild(tr);
    });
    box.appendChild(table);
    if (ts.length > S.limit) {
      box.appendChild(el("button", { id: "more", text: `show ${Math.min(ROWS, ts.length - S.limit)} more`,
        on: { click: () => { S.limit += ROWS; drawTable(box); } } }));
    }
    state.counts.table = Math.min(ts.length, S.limit);
  }
  function select_(n) {
    S.selected = n;
    history.replaceState(null, "", "#trial-" + n);
    const t = S.trials.get(n), box = document.getElementById("details");
    if (!t || !box) { return; }
    const lines = [`trial ${t.n}: ${t.s}`, `values: ${show(t.v)}`, `constraints: ${t.c ? show(t.c) + (feasible(t) ? " (feasible)" : " (INFEASIBLE)") : "none recorded"}`,
      `started: ${when(t.t0)}`, `finished: ${when(t.t1)}`, `seconds: ${t.t1 && t.t0 ? show(t.t1 - t.t0) : "-"}`, "params:",
      ...Object.entries(t.p).map(([k, v]) => `  ${k} = ${show(v)}`)];
    if (t.i.length) { lines.push("intermediate: " + t.i.map(([s, v]) => `${s}: ${show(v)}`).join(", ")); }
    if (t.e) { lines.push("error:", t.e); }
    box.textContent = lines.join("\n");
    box.dataset.number = String(n);
    box.hidden = false;
  }

  function renderStudy() {
    const t0 = performance.now(), done = completed();
    root.textContent = "";
    const counts = {};
    [...S.trials.values()].forEach(t => { counts[t.s] = (counts[t.s] || 0) + 1; });
    root.appendChild(el("h1", { text: `${S.name} (${S.dirs.join(", ")})` }));
    root.appendChild(el("p", { class: "note", id: "summary", text: `${S.trials.size} trials: ` +
      Object.entries(counts).map(([k, n]) => `${n} ${k.toLowerCase()}`).join(", ") }));
    const grid = el("div", { class: "grid" });
    root.appendChild(grid);
    if (!done.length) {
      grid.appendChild(el("p", { class: "note", text: "no completed trial yet: the charts appear with the first one" }));
    } else {
      drawHistory(grid, done); drawPareto(grid, done); drawImportance(grid); drawIntermediate(grid);
      drawParallel(grid, done); drawSlices(grid, done);
    }
    const details = el("div", { id: "details", hidden: "" });
    root.appendChild(details);
    const tbox = el("div", { id: "table-box" });
    root.appendChild(tbox);
    drawTable(tbox);
    if (S.selected !== null) { select_(S.selected); }
    document.querySelectorAll(".chart").forEach(c => { state.counts[c.id.replace("chart-", "")] = Number(c.dataset.points || 0); });
    state.counts.completed = done.length; state.counts.trials = S.trials.size;
    state.renderMs = performance.now() - t0; state.renders++; state.ready = true;
    state.renderedAt = performance.now();
  }
  async function refreshImportance() {
    const done = completed().length;
    if (done === S.impDone || Date.now() - S.impAt < 10000 && S.importance) { return false; }
    S.impDone = done; S.impAt = Date.now();
    try { S.importance = await getJSON(`/api/studies/${encodeURIComponent(S.name)}/importance`); }
    catch (e) { S.importance = { available: false, reason: e.message }; }
    return true;
  }
  async function poll() {
    try {
      const up = await getJSON(`/api/studies/${encodeURIComponent(S.name)}/updates?seq=${state.seq}`);
      state.seq = up.seq;
      up.trials.forEach(t => S.trials.set(t.n, t));
      const imp = await refreshImportance();
      if (up.trials.length || imp) { renderStudy(); }
      live(`live: updated ${new Date().toLocaleTimeString()}`);
    } catch (e) { live("live: " + e.message); }
    setTimeout(poll, POLL_MS);
  }
  async function studyPage(name) {
    state.page = "study";
    const v = await getJSON(`/api/studies/${encodeURIComponent(name)}`);
    Object.assign(S, { name: v.name, dirs: v.directions, space: v.space, params: v.params });
    v.trials.forEach(t => S.trials.set(t.n, t));
    state.seq = v.seq;
    const m = /^#trial-(\d+)$/.exec(location.hash);
    if (m) { S.selected = Number(m[1]); }
    renderStudy();
    document.title = `${S.name} · gpu_bo dashboard`;
    refreshImportance().then(changed => { if (changed) { renderStudy(); } });
    setTimeout(poll, POLL_MS);
  }
  function fail(e) {
    state.errors.push(String(e && e.message || e));
    root.textContent = "";
    root.appendChild(el("p", { class: "error", id: "error", text: "error: " + (e && e.message || e) }));
    state.ready = true;
  }
  const m = /^\/study\/(.+)$/.exec(location.pathname);
  (m ? studyPage(decodeURIComponent(m[1])) : listPage()).catch(fail);
})();
