// Small canvas charts for the gpu_bo dashboard: scatter/line plots, parallel coordinates, bars.
// Drawn by hand: the page needs parallel coordinates and bars as well as scatter plots, and one
// ~200-line helper draws all of them with the same axes and colors, fast for 10,000 points.
// Labels are drawn with fillText (never HTML), so names and values cannot inject markup.
"use strict";
(function () {
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function viridis(t) { // t in [0, 1]: 1 is yellow (the best)
    t = Math.max(0, Math.min(1, isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return `rgb(${a.map((v, k) => Math.round(v + f * (b[k] - v))).join(",")})`;
  }
  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) { return [lo]; }
    const step0 = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= step0);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) { out.push(+v.toPrecision(12)); }
    return out;
  }
  function fmt(v) {
    if (typeof v !== "number") { return String(v); }
    const a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(1) : String(+v.toPrecision(4));
  }
  // an axis: {type: "num" | "log" | "cat", cats, lo, hi} -> map(value) to [0, 1]
  function axis(spec, values) {
    const ax = Object.assign({ type: "num" }, spec);
    if (ax.type === "cat") {
      ax.cats = ax.cats || [...new Set(values.map(v => JSON.stringify(v)))].map(s => JSON.parse(s));
      const keys = ax.cats.map(c => JSON.stringify(c)), k = Math.max(1, keys.length);
      ax.map = v => (keys.indexOf(JSON.stringify(v)) + 0.5) / k;
      ax.ticks = ax.cats.map((c, i) => [(i + 0.5) / k, String(c)]);
      return ax;
    }
    const log = ax.type === "log", f = log ? Math.log10 : (x => x);
    let fin = values.filter(v => typeof v === "number" && isFinite(v) && (!log || v > 0)).map(f);
    let lo = ax.lo !== undefined ? f(ax.lo) : Math.min(...fin), hi = ax.hi !== undefined ? f(ax.hi) : Math.max(...fin);
    if (!fin.length && ax.lo === undefined) { lo = 0; hi = 1; }
    if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    const pad = ax.pad === false ? 0 : 0.04 * (hi - lo);
    lo -= pad; hi += pad;
    ax.map = v => (f(v) - lo) / (hi - lo);
    ax.ticks = niceTicks(log ? Math.ceil(lo) : lo, log ? Math.floor(hi) : hi, log ? Math.max(1, Math.min(5, Math.floor(hi) - Math.ceil(lo))) : 5)
      .map(t => [(t - lo) / (hi - lo), fmt(log ? Math.pow(10, t) : t)]);
    return ax;
  }
  function canvas(el, height) {
    el.textContent = "";
    const c = document.createElement("canvas"), w = Math.max(200, el.clientWidth || 440), dpr = window.devicePixelRatio || 1;
    c.width = w * dpr; c.height = height * dpr; c.style.height = height + "px";
    el.appendChild(c);
    const g = c.getContext("2d");
    g.scale(dpr, dpr);
    g.font = "11px system-ui, sans-serif";
    return [g, w, height];
  }
  function cut(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  // plot(el, {height, x: axis spec, y: axis spec, xlabel, ylabel, series: [{xs, ys, colors|color, line, size}]})
  function plot(el, spec) {
    const h = spec.height || 260, [g, w] = canvas(el, h), m = { l: 54, r: 10, t: 8, b: 34 };
    const allX = spec.series.flatMap(s => s.xs), allY = spec.series.flatMap(s => s.ys);
    const ax = axis(spec.x || {}, allX), ay = axis(spec.y || {}, allY);
    const X = v => m.l + ax.map(v) * (w - m.l - m.r), Y = v => h - m.b - ay.map(v) * (h - m.t - m.b);
    g.strokeStyle = "#999"; g.fillStyle = "#444"; g.lineWidth = 1;
    g.strokeRect(m.l, m.t, w - m.l - m.r, h - m.t - m.b);
    g.textAlign = "center";
    ax.ticks.forEach(([p, s]) => g.fillText(cut(s, 12), m.l + p * (w - m.l - m.r), h - m.b + 13));
    g.textAlign = "right";
    ay.ticks.forEach(([p, s]) => g.fillText(cut(s, 9), m.l - 4, h - m.b - p * (h - m.t - m.b) + 4));
    g.textAlign = "center";
    g.fillText(cut(spec.xlabel || "", 60), m.l + (w - m.l - m.r) / 2, h - 4);
    g.save(); g.translate(11, m.t + (h - m.t - m.b) / 2); g.rotate(-Math.PI / 2); g.fillText(cut(spec.ylabel || "", 40), 0, 0); g.restore();
    let points = 0;
    for (const s of spec.series) {
      const ok = i => s.ys[i] !== null && isFinite(ay.map(s.ys[i])) && isFinite(ax.map(s.xs[i]));
      if (s.line) {
        g.strokeStyle = s.color || "#d32f2f"; g.lineWidth = s.width || 1.5; g.beginPath();
        let on = false;
        s.xs.forEach((x, i) => { if (!ok(i)) { on = false; return; } on ? g.lineTo(X(x), Y(s.ys[i])) : g.moveTo(X(x), Y(s.ys[i])); on = true; });
        g.stroke();
      } else {
        const r = s.size || 2.5;
        s.xs.forEach((x, i) => {
          if (!ok(i)) { return; }
          g.fillStyle = s.colors ? s.colors[i] : (s.color || "#1976d2");
          g.fillRect(X(x) - r, Y(s.ys[i]) - r, 2 * r, 2 * r);
          points++;
        });
      }
    }
    el.dataset.points = String(spec.count !== undefined ? spec.count : points);
    return el;
  }
  // parallel(el, {axes: [{label, spec, values}], colors}): one polyline per row
  function parallel(el, spec) {
    const h = spec.height || 300, [g, w] = canvas(el, h), m = { l: 40, r: 40, t: 22, b: 24 };
    const k = spec.axes.length, n = k ? spec.axes[0].values.length : 0;
    const axes = spec.axes.map(a => axis(Object.assign({ pad: false }, a.spec), a.values));
    const X = j => m.l + (k > 1 ? j / (k - 1) : 0.5) * (w - m.l - m.r), Y = p => h - m.b - p * (h - m.t - m.b);
    g.globalAlpha = n > 2000 ? 0.15 : n > 300 ? 0.35 : 0.7; g.lineWidth = 1;
    for (let i = 0; i < n; i++) {
      g.strokeStyle = spec.colors[i]; g.beginPath();
      let on = false;
      for (let j = 0; j < k; j++) {
        const v = spec.axes[j].values[i], p = v === null || v === undefined ? NaN : axes[j].map(v);
        if (!isFinite(p)) { on = false; continue; }
        on ? g.lineTo(X(j), Y(p)) : g.moveTo(X(j), Y(p)); on = true;
      }
      g.stroke();
    }
    g.globalAlpha = 1; g.strokeStyle = "#555"; g.fillStyle = "#222"; g.textAlign = "center";
    spec.axes.forEach((a, j) => {
      g.beginPath(); g.moveTo(X(j), m.t); g.lineTo(X(j), h - m.b); g.stroke();
      g.fillText(cut(a.label, 18), X(j), 12);
      axes[j].ticks.forEach(([p, s]) => g.fillText(cut(s, 10), X(j), Y(p) + 4));
    });
    el.dataset.points = String(n);
    return el;
  }
  // bars(el, labels, values): horizontal bars, the given order top to bottom
  function bars(el, labels, values) {
    const row = 22, h = 16 + row * labels.length, [g, w] = canvas(el, h), l = Math.min(180, w * 0.35);
    const top = Math.max(1e-12, ...values);
    labels.forEach((lab, i) => {
      const y = 8 + i * row, bw = (w - l - 60) * values[i] / top;
      g.fillStyle = "#222"; g.textAlign = "right"; g.fillText(cut(lab, 28), l - 6, y + 13);
      g.fillStyle = "#3b528b"; g.fillRect(l, y + 2, bw, row - 6);
      g.fillStyle = "#222"; g.textAlign = "left"; g.fillText(values[i].toFixed(3), l + bw + 4, y + 13);
    });
    el.dataset.points = String(labels.length);
    return el;
  }
  window.GBCharts = { plot, parallel, bars, viridis, fmt };
})();
