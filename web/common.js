/* common.js: DOM helpers shared by the dashboard and the inspector. Every
   string from the server goes into the page as text, never as HTML. */
"use strict";
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}
function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
function fmt(n) { return Number(n).toLocaleString("en-US"); }
function pct(n, d) { return d > 0 ? (100 * n / d).toFixed(1) + "%" : "n/a"; }
/* POST a body to an API endpoint; resolves to the JSON answer (ok true/false). */
async function api(path, params, body) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const qs = q.toString();
  const r = await fetch(path + (qs ? "?" + qs : ""), { method: "POST", body: body || "",
                        headers: { "Content-Type": "application/xml" } });
  const t = await r.text();
  try { return JSON.parse(t); } catch (e) { return { ok: false, error: { message: "HTTP " + r.status + ": " + t.trim() } }; }
}
/* Horizontal bar chart as inline SVG: rows of {label, n}; widths against max;
   every bar carries its number and its share of the first row in text. */
function barChart(rows, title) {
  const W = 640, rowH = 26, labelW = 120, numW = 150, H = rows.length * rowH + 8;
  const max = Math.max(1, ...rows.map(r => r.n));
  const base = rows.length ? rows[0].n : 0;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", "100%");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title + ": " + rows.map(r => `${r.label} ${r.n}`).join(", "));
  svg.style.maxWidth = W + "px";
  const mk = (t, a, txt) => { const e = document.createElementNS(ns, t);
    for (const [k, v] of Object.entries(a)) e.setAttribute(k, v); if (txt !== undefined) e.textContent = txt; return e; };
  rows.forEach((r, i) => {
    const y = 4 + i * rowH, w = Math.round((W - labelW - numW) * r.n / max);
    svg.append(mk("text", { x: 0, y: y + 17 }, r.label));
    svg.append(mk("rect", { class: "bar", x: labelW, y: y + 3, width: Math.max(w, 1), height: rowH - 8,
                            "data-event": r.label, "data-n": r.n }));
    svg.append(mk("text", { x: labelW + w + 6, y: y + 17, class: "num" },
                  `${fmt(r.n)}${i ? " (" + pct(r.n, base) + ")" : ""}`));
  });
  return svg;
}
