/* inspect.js: the tag inspector. Sends the document to the JSON API
   (/api/inspect, /api/validate, /api/resolve, /api/play) and draws the answers. */
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const iab = {};
  let state = { source: "", url: "", codes: new Set() };
  const ready = fetch("/api/errors").then(r => r.json()).then(j => {
    for (const c of j.codes || []) iab[c.code] = c;
  }).catch(() => {});

  function status(t) { $("status").textContent = t; }

  /* Source view: one span per line, id L<n>, so findings can link to lines. */
  function drawSource(src) {
    const pre = clear($("srcview"));
    src.split("\n").forEach((line, i) =>
      pre.append(el("span", { id: "L" + (i + 1), "data-n": i + 1 }, line)));
  }
  function gotoLine(n) {
    document.querySelectorAll("pre.source span.hit").forEach(s => s.classList.remove("hit"));
    const s = $("L" + n);
    if (!s) return;
    s.classList.add("hit");
    const pre = $("srcview");
    pre.scrollTop = s.offsetTop - pre.offsetTop - 40;
    pre.focus();
  }

  /* Any JSON value as a collapsible tree. */
  function tree(v, key, depth) {
    const label = key === undefined ? "" : key;
    if (v === null || typeof v !== "object")
      return el("div", {}, label !== "" ? el("span", { class: "k" }, label + ": ") : null,
                v === null ? "null" : typeof v === "string" ? JSON.stringify(v) : String(v));
    const isArr = Array.isArray(v);
    const entries = isArr ? v.map((x, i) => [i, x]) : Object.entries(v);
    if (!entries.length) return el("div", {}, el("span", { class: "k" }, label + ": "), isArr ? "[]" : "{}");
    const d = el("details", depth < 3 ? { open: "" } : {},
                 el("summary", {}, el("span", { class: "k" }, String(label)),
                    isArr ? ` [${entries.length}]` : ` {${entries.length}}`));
    for (const [k, x] of entries) d.append(tree(x, k, depth + 1));
    return d;
  }

  function sevLabel(s) { return el("span", { class: "sev sev-" + s }, s); }

  /* Findings the way `vastrack validate` prints them: sorted by line, a rule
     found at 3 or more places collapsed into one row with its count and first
     positions (a button shows the rest), and a filter by severity. */
  let lastFindings = null;
  function drawFindings(v) {
    lastFindings = v;
    const t = $("findings"), tb = clear(t.tBodies[0]);
    if (!v.ok) { $("summary").textContent = "validation failed: " + v.error.message; t.hidden = true; return; }
    const r = v.result;
    const policy = (r.overrides || []).map(o => `${o.rule}=${o.severity}`).join(", ");
    $("summary").textContent = `${r.errors} errors, ${r.warnings} warnings, ${r.infos} notes ` +
                               `(profile ${v.profile}${policy ? "; rules: " + policy : ""}` +
                               `${v.parsed ? "" : "; the document did not parse"})`;
    const rank = { error: 2, warning: 1, info: 0 };
    const min = rank[$("sev-filter").value] ?? 0;
    const list = r.findings.map((f, i) => ({ f, i }))
      .sort((a, b) => ((a.f.line || 0) - (b.f.line || 0)) || ((a.f.column || 0) - (b.f.column || 0)) || (a.i - b.i))
      .map(x => x.f);
    const places = {};
    for (const f of list) (places[f.rule] ??= new Set()).add(`${f.line}:${f.column}`);
    const groups = {};
    let shown = 0;
    for (const f of list) {
      if (f.iabCode) state.codes.add(f.iabCode);
      const where = f.line ? el("a", { href: "#L" + f.line, onclick: e => { e.preventDefault(); gotoLine(f.line); } },
                                `${f.line}:${f.column}`) : "?";
      const row = el("tr", { "data-rule": f.rule, "data-severity": f.severity }, el("td", {}, where),
                     el("td", {}, sevLabel(f.severity)), el("td", {}, f.rule), el("td", { class: "n" }, f.iabCode || ""),
                     el("td", {}, f.message, el("br"), el("small", {}, f.path)), el("td", {}, f.fix));
      const filtered = (rank[f.severity] ?? 0) < min;
      if (filtered) row.hidden = true;
      else shown++;
      if (places[f.rule].size >= 3) {
        const g = groups[f.rule];
        if (!g) { /* the group's row: the first finding, the count, the first positions */
          const all = list.filter(x => x.rule === f.rule);
          const first = [...places[f.rule]].slice(0, 3).join(", ");
          const btn = el("button", { type: "button", class: "more-toggle", "aria-expanded": "false" },
                         `show all ${all.length}`);
          btn.onclick = () => {
            const open = btn.getAttribute("aria-expanded") !== "true";
            btn.setAttribute("aria-expanded", String(open));
            btn.textContent = open ? "collapse" : `show all ${all.length}`;
            tb.querySelectorAll(`tr.more[data-group="${f.rule}"]`).forEach(tr => { tr.hidden = !open || tr.dataset.filtered === "1"; });
          };
          row.classList.add("group");
          row.cells[4].append(el("br"), el("span", { class: "count" },
            `${all.length} times; first at ${first}${places[f.rule].size > 3 ? ", \u2026" : ""} `), btn);
          groups[f.rule] = true;
        } else {
          row.classList.add("more");
          row.dataset.group = f.rule;
          row.dataset.filtered = filtered ? "1" : "0";
          row.hidden = true;
        }
      }
      tb.append(row);
    }
    t.hidden = !r.findings.length;
    $("sev-shown").textContent = r.findings.length ? `${shown} of ${r.findings.length} findings match the filter` : "";
  }

  const COLS = ["impression", "error", "creativeView", "start", "firstQuartile", "midpoint",
                "thirdQuartile", "complete", "progress", "pause", "resume", "mute", "unmute",
                "skip", "closeLinear", "clickTracking"];
  function drawCoverage(rows) {
    const t = clear($("coverage"));
    if (!rows || !rows.length) { t.append(el("tr", {}, el("td", {}, "no creatives"))); return; }
    const extra = [];
    for (const r of rows) for (const k of Object.keys(r.events)) if (!COLS.includes(k) && !extra.includes(k)) extra.push(k);
    const cols = COLS.concat(extra);
    t.append(el("thead", {}, el("tr", {}, el("th", {}, "ad / creative"), ...cols.map(c => el("th", { class: "n" }, c)),
                                  el("th", {}, "missing"))));
    const tb = el("tbody");
    for (const r of rows) {
      const name = `${r.ad || "ad " + (r.adIndex + 1)} (${r.adType}) / ${r.creative || (r.creativeIndex === null ? "-" : "#" + (r.creativeIndex + 1))} ${r.kind}`;
      tb.append(el("tr", { "data-missing": r.missing.join(" ") }, el("th", {}, name),
        ...cols.map(c => { const n = r.events[c] || 0; const miss = r.missing.includes(c);
          return el("td", { class: "n" + (miss ? " missing" : "") }, miss ? "MISSING" : n ? el("span", { class: "yes" }, n) : "-"); }),
        el("td", { class: "missing" }, r.missing.length ? r.missing.join(", ") : "none")));
    }
    t.append(tb);
  }

  /* The wrapper chain: each hop says what happened there (the InLine found,
     the Wrapper followed, or where and why the chain stopped), not just "ok". */
  function drawChain(v) {
    const t = $("chain"), tb = clear(t.tBodies[0]);
    if (!v || !v.chain) { $("chain-summary").textContent = v && v.error ? "not resolved: " + v.error.message : "no wrapper resolved"; t.hidden = true; return; }
    const c = v.chain, fails = c.failures || [], ads = c.ads || [];
    const inlineAt = {};
    for (const a of ads) for (const x of a.chain) if (x.kind === "inline" && x.hop !== undefined) inlineAt[x.hop] = x.id || "(no id)";
    const children = c.hops.map((_, i) => c.hops.map((h, j) => h.parent === i ? j : -1).filter(j => j >= 0));
    /* where a failure stopped: the last level it reached, named by ad id and kind */
    const stop = f => {
      const l = f.chain[f.chain.length - 1];
      return l ? `${l.kind === "wrapper" ? "the Wrapper" : l.kind === "inline" ? "the InLine" : "the Ad"} ${l.id ? "'" + l.id + "'" : "(no id)"}` : "the first document";
    };
    c.hops.forEach((h, i) => {
      if (h.iabCode) state.codes.add(h.iabCode);
      let result, cls = "";
      if (h.error) {
        result = `failed here: ${h.error}${h.iabCode ? " [VAST " + h.iabCode + "]" : ""}`; cls = "bad";
      } else if (inlineAt[i] !== undefined) {
        result = `ok: InLine ad ${inlineAt[i]}`;
      } else if (children[i].length) {
        result = `ok: Wrapper, followed to hop ${children[i].join(", ")}`;
      } else {
        const here = fails.filter(f => f.chain.length && f.chain.some(x => x.kind === "wrapper"));
        result = here.length ? "chain stopped here: " + here.map(f => `${f.message} [VAST ${f.iabCode}] at ${stop(f)}`).join("; ")
                             : "no InLine in this document";
        cls = "bad";
      }
      tb.append(el("tr", { class: cls }, el("td", { class: "n" }, i), el("td", { class: "n" }, h.depth),
        el("td", { class: "url" }, h.url || "(the document sent)"), el("td", { class: "n" }, h.status || "-"),
        el("td", { class: "n" }, h.latencyMs.toFixed(1) + " ms"), el("td", { class: "n" }, fmt(h.bytes)),
        el("td", {}, result)));
    });
    for (const f of fails) if (f.iabCode) state.codes.add(f.iabCode);
    $("chain-summary").textContent = `${c.hops.length} documents, ${ads.length} ad(s) resolved to an InLine, ` +
      `${fails.length} failed, ${c.elapsedMs.toFixed(1)} ms` +
      (fails.length ? ": " + fails.map(f => `${f.message} [VAST ${f.iabCode}] at ${stop(f)}`).join("; ") : "");
    t.hidden = false;
  }

  function drawCodes() {
    const d = clear($("cheatsheet"));
    const codes = [...state.codes].sort((a, b) => a - b).filter(c => iab[c]);
    if (!codes.length) { d.append(el("p", { class: "status" }, "none")); return; }
    const dl = el("dl");
    for (const c of codes) {
      const e = iab[c];
      dl.append(el("dt", { id: "code-" + c }, el("b", {}, `${c}: ${e.name}`)),
                el("dd", {}, el("p", {}, e.meaning), el("p", {}, "Usual cause: ", e.cause),
                   el("p", {}, "Fix: ", e.fix), e.test ? el("p", {}, "Test: ", el("code", {}, e.test)) : null));
    }
    d.append(dl);
  }

  function hasWrapper(doc) { return doc && (doc.ads || []).some(a => a.type === "wrapper"); }

  async function run(ev) {
    ev.preventDefault();
    state = { source: $("source").value, url: $("url").value.trim(), codes: new Set() };
    const profile = $("profile").value;
    if (!state.source.trim() && !state.url) { status("nothing to inspect: paste a tag, upload a file or give a URL"); return; }
    status("working\u2026");
    $("run").disabled = true;
    try {
      await ready;
      let ins;
      if (!state.source.trim()) {
        ins = await api("/api/inspect", { url: state.url });
        if (ins.source !== null && ins.source !== undefined) { state.source = ins.source; $("source").value = ins.source; }
      } else {
        ins = await api("/api/inspect", {}, state.source);
      }
      drawSource(state.source);
      clear($("tree"));
      if (ins.ok) { $("tree").append(tree(ins.doc, "document", 0)); drawCoverage(ins.coverage); }
      else {
        $("tree").append(el("p", { class: "bad" }, `not parsed: ${ins.error.message}` +
                         (ins.error.line ? ` (line ${ins.error.line})` : "")));
        drawCoverage([]);
      }
      const [val, res] = await Promise.all([
        state.source ? api("/api/validate", { profile, url: state.url, probe: $("probe").checked ? "1" : "" },
                           state.source) : Promise.resolve(null),
        ins.ok && hasWrapper(ins.doc) ? (state.url ? api("/api/resolve", { url: state.url })
                                                   : api("/api/resolve", {}, state.source)) : Promise.resolve(null)]);
      if (val) drawFindings(val); else { $("summary").textContent = "not validated: " + ins.error.message; $("findings").hidden = true; }
      drawChain(res);
      drawCodes();
      status(ins.ok ? "inspected" : "not a VAST document: " + ins.error.message);
    } catch (e) {
      status("request failed: " + e.message);
    } finally {
      $("run").disabled = false;
    }
  }

  async function simulate(ev) {
    ev.preventDefault();
    const src = $("source").value;
    const url = $("url").value.trim();
    if (!src.trim() && !url) { $("play-summary").textContent = "nothing to play: inspect a tag first"; return; }
    $("simulate").disabled = true;
    try {
      const v = await api("/api/play", { events: $("events").value.trim(), watch: $("watch").value.trim(),
                                         content: $("content").value.trim(), cues: $("cues").value.trim(),
                                         url, seed: 1 }, src);
      const t = $("beacons"), tb = clear(t.tBodies[0]);
      if (!v.ok) { $("play-summary").textContent = "cannot play: " + v.error.message; t.hidden = true; return; }
      /* a heading row before each break and each ad of a pod or VMAP */
      const adOf = (b) => v.ads.find(a => a.break === b.break && a.ad === b.ad);
      const brkOf = (n) => v.breaks.find(x => x.break === n);
      const many = v.ads.length > 1 || v.breaks.length > 0;
      let lastBrk = null, lastAd = null, n = 0;
      const head = (text, cls) => tb.append(el("tr", { class: cls }, el("td", { colspan: "6" }, text)));
      const breakHead = (x) => head(`break ${x.break}: ${["", "preroll", "midroll", "postroll"][x.position || 0] || "not placed"}` +
        (x.at !== null ? ` at content ${x.at.toFixed(3)} s` : "") + `, timeOffset ${x.timeOffset}` +
        (x.repeat ? `, repeat ${x.repeat}` : "") + (x.breakId ? `, breakId ${x.breakId}` : "") +
        (x.error ? ` (${x.error})` : ""), "break");
      v.beacons.forEach((b) => {
        if (b.break !== null && b.break !== lastBrk) {
          /* breaks with no beacon of their own still get their heading, in order */
          for (const x of v.breaks) if (x.break > (lastBrk || 0) && x.break <= b.break) breakHead(x);
          lastBrk = b.break; lastAd = null;
        }
        const a = b.ad !== null ? adOf(b) : null;
        if (many && a && b.ad !== lastAd) {
          head(`${b.break !== null ? "break " + b.break + ", " : ""}ad ${b.ad}: ${a.id || "(no id)"}, creative ${a.creative}` +
               (a.duration !== null ? `, ${a.duration} s` : ""), "ad");
          lastAd = b.ad;
        }
        const from = b.level === null ? "break" : (a && b.level === a.levels - 1) ? "InLine" : "wrapper " + (b.level + 1);
        tb.append(el("tr", { "data-event": b.event, "data-break": b.break === null ? "" : String(b.break),
                              "data-ad": b.ad === null ? "" : String(b.ad) },
          el("td", { class: "n" }, ++n), el("td", { class: "n" }, b.t.toFixed(2)),
          el("td", { class: "n" }, b.media === null ? "-" : b.media.toFixed(2)), el("td", {}, b.event),
          el("td", {}, from), el("td", { class: "url" }, b.url)));
      });
      for (const x of v.breaks) if (x.break > (lastBrk || 0)) breakHead(x);
      $("play-summary").textContent = `${v.beacons.length} beacons` +
        (v.kind === "vmap" ? ` over ${v.breaks.length} breaks` : "") +
        (v.ads.length > 1 ? `, ${v.ads.length} ads` : ` over ${v.watched.toFixed(2)} s of media`) +
        (v.ads.length === 1 && v.duration !== null ? ` (ad duration ${v.duration} s)` : "") +
        (v.refused.length ? "; refused: " + v.refused.map(r => `${r.event} at ${r.t}s (${r.message})`).join(", ") : "");
      t.hidden = false;
    } catch (e) {
      $("play-summary").textContent = "request failed: " + e.message;
    } finally {
      $("simulate").disabled = false;
    }
  }

  $("file").addEventListener("change", () => {
    const f = $("file").files[0];
    if (!f) return;
    f.text().then(t => { $("source").value = t; $("url").value = ""; status(`loaded ${f.name} (${fmt(t.length)} characters)`);
                         $("form").requestSubmit(); });
  });
  $("form").addEventListener("submit", run);
  $("sev-filter").addEventListener("change", () => { if (lastFindings) drawFindings(lastFindings); });
  $("playform").addEventListener("submit", simulate);
})();
