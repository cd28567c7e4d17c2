/* dashboard.js: the live dashboard. Polls /api/stats every second and redraws
   the counters, the funnel chart and the tables. */
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const names = {};
  let last = null, timer = null;
  const FUNNEL_LABEL = { impression: "impression", start: "start", firstQuartile: "Q1",
                         midpoint: "midpoint", thirdQuartile: "Q3", complete: "complete" };
  fetch("/api/errors").then(r => r.json()).then(j => {
    for (const c of j.codes || []) names[c.code] = c.name;
  }).catch(() => {});

  function draw(s) {
    if (last && s.tMs > last.tMs) {
      const rate = (s.hits - last.hits) * 1000 / (s.tMs - last.tMs);
      $("rate").textContent = rate.toFixed(1);
    }
    last = s;
    $("stored").textContent = fmt(s.stored);
    $("failed").textContent = fmt(s.failed);
    $("queue").textContent = fmt(s.queueDepth);
    $("bad").textContent = fmt(s.badRequests);
    $("conns").textContent = fmt(s.connections);
    const f = clear($("funnel"));
    f.append(barChart(s.funnel.map(r => ({ label: FUNNEL_LABEL[r.event] || r.event, n: r.n })),
                      "Quartile funnel"));
    const ev = clear($("events").tBodies[0]);
    const evs = Object.entries(s.events).sort((a, b) => b[1] - a[1]);
    if (!evs.length) ev.append(el("tr", {}, el("td", { colspan: 2 }, "no hits yet")));
    for (const [k, n] of evs) ev.append(el("tr", {}, el("td", {}, k), el("td", { class: "n" }, fmt(n))));
    const er = clear($("errors").tBodies[0]);
    if (!s.errors.length) er.append(el("tr", {}, el("td", { colspan: 3 }, "no error beacons")));
    for (const e of s.errors.slice().sort((a, b) => b.n - a.n))
      er.append(el("tr", {}, el("td", { class: "n" }, e.code === null ? "none" : e.code),
                   el("td", {}, e.code === null ? "no numeric code" : names[e.code] || "not an IAB code"),
                   el("td", { class: "n" }, fmt(e.n))));
    const ad = clear($("ads").tBodies[0]);
    if (!s.ads.length) ad.append(el("tr", {}, el("td", { colspan: 10 }, "no ads yet")));
    for (const a of s.ads)
      ad.append(el("tr", {}, el("td", {}, a.ad === "" ? "(no ad id)" : a.ad),
        ...s.funnel.map(f => el("td", { class: "n" }, fmt(a[f.event]))), // the server's funnel
        el("td", { class: "n" }, pct(a.complete, a.impression)),
        el("td", { class: "n" }, fmt(a.error)), el("td", { class: "n" }, fmt(a.other))));
    $("ads-more").textContent = s.adsOther ? `${fmt(s.adsOther)} hits of further ads not listed` : "";
    $("status").textContent = `live, updated ${new Date(s.tMs).toLocaleTimeString("en-GB")}` +
                              ` (${s.ack} acks)`;
  }

  async function poll() {
    try {
      const r = await fetch("/api/stats", { cache: "no-store" });
      draw(await r.json());
    } catch (e) {
      $("status").textContent = "disconnected: retrying";
    }
    timer = setTimeout(poll, document.hidden ? 5000 : 1000);
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) { clearTimeout(timer); poll(); }
  });
  poll();
})();
