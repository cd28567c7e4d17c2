// run.cjs: browser tests of the web inspector (/inspect) and the live dashboard (/),
// in Debian's chromium driven by playwright-core. Started by tests/e2e/browser.sh,
// which runs `vastrack serve` and passes:
//   BASE       the collector's URL (http://127.0.0.1:PORT)
//   VASTRACK   the binary (expected findings and beacons come from the CLI)
//   CORPUS     ../shared/corpus
//   ARTIFACTS  where screenshots go (build/browser-artifacts)
// Prints one `ok - browser: ...` / `not ok - browser: ...` line per check.
"use strict";
const { chromium } = require("playwright-core");
const http = require("http");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync, execFile } = require("child_process");
const { promisify } = require("util");

const BASE = process.env.BASE;
const VASTRACK = process.env.VASTRACK;
const SAMPLES = path.join(process.env.CORPUS, "dailymotion__vast-client-js/spec/samples");
const ART = process.env.ARTIFACTS;
fs.mkdirSync(ART, { recursive: true });

let failed = 0;
function ok(cond, name, detail) {
  console.log(`${cond ? "ok" : "not ok"} - browser: ${name}`);
  if (!cond) {
    failed++;
    if (detail !== undefined) console.log("#   " + String(detail).split("\n").join("\n#   "));
  }
}

/* What the command line says about a file: [{rule, line}] in order. */
function cliFindings(file, profile) {
  let out;
  try {
    out = execFileSync(VASTRACK, ["validate", "--json", "--profile", profile, file], { encoding: "utf8" });
  } catch (e) {
    out = e.stdout; // exit 1/3: findings with errors, or not VAST
  }
  /* the page sorts by line and column, like the CLI's text output (a stable sort) */
  return JSON.parse(out).findings.map((f, i) => ({ f, i }))
    .sort((a, b) => ((a.f.line || 0) - (b.f.line || 0)) || ((a.f.column || 0) - (b.f.column || 0)) || (a.i - b.i))
    .map(x => `${x.f.rule}@${x.f.line || 0}`);
}
/* The page's findings table as [rule@line], collapsed rows included. */
async function pageFindings(page) {
  return page.$$eval("#findings tbody tr", trs => trs.map(tr =>
    `${tr.dataset.rule}@${(tr.cells[0].textContent.split(":")[0].replace("?", "")) || "0"}`));
}

/* A loopback server for the corpus chain wrapper-a.xml -> wrapper-b.xml -> sample.xml. */
function serveSamples() {
  return new Promise(resolve => {
    const srv = http.createServer((req, res) => {
      const name = path.basename(decodeURIComponent(req.url.split("?")[0]));
      const file = path.join(SAMPLES, name);
      if (!/^[\w.-]+\.xml$/.test(name) || !fs.existsSync(file)) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { "Content-Type": "application/xml" });
      res.end(fs.readFileSync(file));
    });
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

function hit(pathq) {
  return new Promise((resolve, reject) => {
    http.get(BASE + pathq, res => { res.resume(); res.on("end", () => resolve(res.statusCode)); })
        .on("error", reject);
  });
}

async function main() {
  const samples = await serveSamples();
  const SAMPLE_URL = `http://127.0.0.1:${samples.address().port}`;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "vastrack-chromium-"));
  // A fresh profile directory per run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(userDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    timeout: 30000,
  });
  const consoleErrors = [];
  async function newPage(viewport) {
    const page = await browser.newPage();
    await page.setViewportSize(viewport || { width: 1280, height: 900 });
    page.setDefaultTimeout(15000);
    page.on("console", m => { if (m.type() === "error" || m.type() === "warning") consoleErrors.push(`${page.url()}: ${m.text()}`); });
    page.on("pageerror", e => consoleErrors.push(`${page.url()}: ${e.message}`));
    return page;
  }
  try {
    /* 1. Paste a corpus tag: the findings the page lists are the CLI's, in order, and
          each links to its line in the source view. */
    const page = await newPage();
    await page.goto(BASE + "/inspect");
    const inline = path.join(SAMPLES, "inline-linear.xml");
    await page.fill("#source", fs.readFileSync(inline, "utf8"));
    await page.selectOption("#profile", "ctv");
    await page.click("#run");
    await page.waitForFunction(() => document.getElementById("status").textContent === "inspected");
    const want = cliFindings(inline, "ctv");
    const got = await pageFindings(page);
    ok(want.length > 0 && JSON.stringify(got) === JSON.stringify(want),
       "pasted inline-linear.xml lists the findings of `vastrack validate --profile ctv`",
       `page: ${got.join(" ")}\ncli:  ${want.join(" ")}`);
    const summary = await page.textContent("#summary");
    ok(/profile ctv/.test(summary), "the summary names the profile", summary);
    /* grouping: a rule found at 3 or more places is one visible row with a count */
    const groups = await page.$$eval("#findings tbody tr.group", trs => trs.map(tr => [tr.dataset.rule, tr.textContent]));
    const hiddenMore = await page.$$eval("#findings tbody tr.more", trs => trs.filter(tr => tr.hidden).length);
    ok(groups.length > 0 && groups.every(g => /\d+ times; first at /.test(g[1])) && hiddenMore > 0,
       "repeated findings of one rule are collapsed into a row with a count", JSON.stringify(groups).slice(0, 300));
    await page.click("#findings tbody tr.group .more-toggle");
    const openMore = await page.$$eval("#findings tbody tr.more", trs => trs.filter(tr => !tr.hidden).length);
    ok(openMore > 0, "the group's button shows every finding", openMore);
    /* the severity filter */
    await page.selectOption("#sev-filter", "error");
    const visible = await page.$$eval("#findings tbody tr", trs => trs.filter(tr => !tr.hidden).map(tr => tr.dataset.severity));
    ok(visible.length > 0 && visible.every(s => s === "error"), "the filter shows errors only", visible.join(" "));
    await page.selectOption("#sev-filter", "info");
    const link = await page.$("#findings tbody tr a[href^='#L']");
    let hl = null;
    if (link) {
      const target = (await link.getAttribute("href")).slice(1);
      await link.click();
      hl = await page.$eval("pre.source span.hit", s => s.id).catch(() => null);
      ok(hl === target, "a finding's link highlights its line in the source view", `${hl} vs ${target}`);
    } else {
      ok(false, "a finding's link highlights its line in the source view", "no link");
    }
    const cov = await page.$$eval("#coverage tbody tr", trs => trs.length);
    ok(cov > 0, "the event coverage grid has a row per creative", cov);
    const treeText = await page.textContent("#tree");
    ok(/creatives/.test(treeText) && /impressions/.test(treeText), "the document tree shows the model");
    await page.screenshot({ path: path.join(ART, "inspect-paste.png"), fullPage: true });

    /* Not VAST: the parse finding (and its IAB code in the cheat sheet). */
    const bad = path.join(SAMPLES, "invalid-xmlfile.xml");
    await page.fill("#url", "");
    await page.fill("#source", fs.readFileSync(bad, "utf8"));
    await page.selectOption("#profile", "web");
    await page.click("#run");
    await page.waitForFunction(() => /^not a VAST document/.test(document.getElementById("status").textContent));
    const badWant = cliFindings(bad, "web");
    const badGot = await pageFindings(page);
    ok(JSON.stringify(badGot) === JSON.stringify(badWant), "a malformed tag shows the CLI's parse finding",
       `page: ${badGot.join(" ")}\ncli:  ${badWant.join(" ")}`);
    const sheet = await page.textContent("#cheatsheet");
    ok(/\b100: /.test(sheet), "the error-code cheat sheet explains code 100", sheet.slice(0, 200));

    /* 2. Upload a file: it is loaded and inspected at once. */
    const up = path.join(SAMPLES, "wrapper-legacy.xml");
    await page.setInputFiles("#file", up);
    await page.waitForFunction(() => document.getElementById("status").textContent === "inspected");
    const upWant = cliFindings(up, "web");
    const upGot = await pageFindings(page);
    ok(JSON.stringify(upGot) === JSON.stringify(upWant), "an uploaded file lists the CLI's findings",
       `page: ${upGot.join(" ")}\ncli:  ${upWant.join(" ")}`);
    const src = await page.inputValue("#source");
    ok(src === fs.readFileSync(up, "utf8"), "the uploaded file fills the editor");
    await page.screenshot({ path: path.join(ART, "inspect-upload.png"), fullPage: true });

    /* 3. Resolve a wrapper chain served on loopback (the server runs --allow-private). */
    await page.fill("#source", "");
    await page.fill("#url", `${SAMPLE_URL}/wrapper-a.xml`);
    await page.click("#run");
    await page.waitForFunction(() => document.getElementById("status").textContent === "inspected");
    await page.waitForSelector("#chain:not([hidden])");
    const hops = await page.$$eval("#chain tbody tr", trs => trs.map(tr => [...tr.cells].map(c => c.textContent)));
    const names = hops.map(h => h[2].split("/").pop());
    ok(JSON.stringify(names) === JSON.stringify(["wrapper-a.xml", "wrapper-b.xml", "sample.xml"]),
       "the wrapper chain lists wrapper-a.xml -> wrapper-b.xml -> sample.xml", names.join(" "));
    ok(hops.length === 3 && hops.every(h => h[3] === "200" && /^ok: /.test(h[6]) && /ms$/.test(h[4])),
       "every hop shows HTTP 200, its latency and what happened there", JSON.stringify(hops));
    ok(/^ok: Wrapper, followed to hop 1$/.test(hops[0][6]) && /^ok: InLine ad /.test(hops[2][6]),
       "the chain says which hop was a Wrapper and where the InLine is", JSON.stringify(hops.map(h => h[6])));
    ok((await page.inputValue("#source")).includes("wrapper-b.xml"), "the fetched root document fills the editor");
    await page.screenshot({ path: path.join(ART, "inspect-chain.png"), fullPage: true });

    /* A chain that fails: the table says at which hop and why (404 -> 301). */
    await page.fill("#url", `${SAMPLE_URL}/wrapper-unavailable-url.xml`);
    await page.click("#run");
    await page.waitForFunction(() => document.getElementById("status").textContent === "inspected");
    await page.waitForSelector("#chain:not([hidden])");
    const failHops = await page.$$eval("#chain tbody tr", trs => trs.map(tr => tr.cells[6].textContent));
    ok(failHops.some(r => /^failed here: .*\[VAST 301\]/.test(r)) && !failHops.every(r => /^ok/.test(r)),
       "a failing chain says at which hop and why", failHops.join(" | "));
    const failSummary = await page.textContent("#chain-summary");
    ok(/1 failed, .* ms: .*404.*\[VAST 301\] at the Wrapper /.test(failSummary), "the chain summary names where it stopped", failSummary);

    /* 4. Simulate playback of the chain: the beacons of `vastrack play --dry-run`. */
    await page.click("#simulate");
    await page.waitForSelector("#beacons:not([hidden])");
    const beacons = await page.$$eval("#beacons tbody tr[data-event]", trs => trs.map(tr => [tr.cells[3].textContent, tr.cells[5].textContent]));
    let cli = [];
    try {
      // asynchronously: this process serves the chain the CLI fetches
      const r = await promisify(execFile)(VASTRACK, ["play", "--dry-run", "--allow-private", "--json", "--seed", "1",
                                                     `${SAMPLE_URL}/wrapper-a.xml`], { encoding: "utf8" });
      cli = r.stdout.trim().split("\n").map(l => JSON.parse(l)).filter(j => j.beacon); // not the untracked events
    } catch (e) { cli = []; }
    ok(cli.length > 0 && beacons.length === cli.length &&
       beacons.every((b, i) => b[0] === cli[i].event),
       "simulate playback lists the beacons of `vastrack play --dry-run` in order",
       `page ${beacons.length}: ${beacons.map(b => b[0]).join(" ")}\ncli ${cli.length}: ${cli.map(b => b.event).join(" ")}`);
    ok(beacons.some(b => /wrapperA-impression/.test(b[1])), "wrapper impressions are among the beacons");
    await page.screenshot({ path: path.join(ART, "inspect-play.png"), fullPage: true });

    /* 4b. A VMAP: preroll (inline pod of two), midroll at 50% (an AdTagURI served on
           loopback), postroll; played break by break like `vastrack play`. */
    const vmap = `<vmap:VMAP xmlns:vmap="http://www.iab.net/videosuite/vmap" version="1.0">
 <vmap:AdBreak breakType="linear" breakId="pre" timeOffset="start"><vmap:AdSource id="a"><vmap:VASTAdData>
  <VAST version="4.2"><Ad id="p2" sequence="2"><InLine><AdSystem>s</AdSystem><AdTitle>p2</AdTitle>
  <Impression><![CDATA[http://127.0.0.1:9/p2-imp?n=[ADCOUNT]&bp=[BREAKPOSITION]]]></Impression>
  <Creatives><Creative><Linear><Duration>00:00:02</Duration><TrackingEvents><Tracking event="mute">http://127.0.0.1:9/p2-mute</Tracking></TrackingEvents><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://127.0.0.1:9/a.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>
  <Ad id="p1" sequence="1"><InLine><AdSystem>s</AdSystem><AdTitle>p1</AdTitle>
  <Impression><![CDATA[http://127.0.0.1:9/p1-imp?n=[ADCOUNT]&bp=[BREAKPOSITION]]]></Impression>
  <Creatives><Creative><Linear><Duration>00:00:02</Duration><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1" height="1">http://127.0.0.1:9/a.mp4</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>
 </vmap:VASTAdData></vmap:AdSource>
  <vmap:TrackingEvents><vmap:Tracking event="breakStart"><![CDATA[http://127.0.0.1:9/pre-bs?bp=[BREAKPOSITION]]]></vmap:Tracking>
  <vmap:Tracking event="breakEnd"><![CDATA[http://127.0.0.1:9/pre-be]]></vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="mid" timeOffset="50%"><vmap:AdSource id="b"><vmap:AdTagURI templateType="vast3"><![CDATA[${SAMPLE_URL}/inline-linear.xml]]></vmap:AdTagURI></vmap:AdSource>
  <vmap:TrackingEvents><vmap:Tracking event="breakStart"><![CDATA[http://127.0.0.1:9/mid-bs?bp=[BREAKPOSITION]]]></vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak>
 <vmap:AdBreak breakType="linear" breakId="post" timeOffset="end"><vmap:AdSource id="c"><vmap:AdTagURI><![CDATA[${SAMPLE_URL}/no-such.xml]]></vmap:AdTagURI></vmap:AdSource>
  <vmap:TrackingEvents><vmap:Tracking event="error"><![CDATA[http://127.0.0.1:9/post-err?c=[ERRORCODE]&bp=[BREAKPOSITION]]]></vmap:Tracking></vmap:TrackingEvents></vmap:AdBreak>
</vmap:VMAP>`;
    await page.fill("#url", "");
    await page.fill("#source", vmap);
    await page.fill("#content", "60");
    await page.fill("#events", "1.2/mute@1");
    await page.click("#simulate");
    await page.waitForFunction(() => /over 3 breaks/.test(document.getElementById("play-summary").textContent));
    const rows = await page.$$eval("#beacons tbody tr[data-event]", trs => trs.map(tr =>
      [tr.dataset.break, tr.dataset.ad, tr.cells[1].textContent, tr.cells[3].textContent, tr.cells[5].textContent]));
    const heads = await page.$$eval("#beacons tbody tr.break", trs => trs.map(tr => tr.textContent));
    const vmapFile = path.join(userDir, "vmap.xml");
    fs.writeFileSync(vmapFile, vmap);
    let vcli = [];
    try {
      const r = await promisify(execFile)(VASTRACK, ["play", "--dry-run", "--allow-private", "--json", "--seed", "1",
                                                     "--content-duration", "60", "--events", "1.2/mute@1", vmapFile],
                                          { encoding: "utf8" }).catch(e => e); // exit 1: the postroll fails
      vcli = (r.stdout || "").trim().split("\n").filter(l => l).map(l => JSON.parse(l)).filter(j => j.beacon);
    } catch (e) { vcli = []; }
    ok(vcli.length > 0 && rows.length === vcli.length &&
       rows.every((b, i) => b[3] === vcli[i].event && Number(b[2]) === Number(vcli[i].t.toFixed(2))),
       "a VMAP plays break by break: the beacons (and content times) of `vastrack play`",
       `page ${rows.length}: ${rows.map(b => b[3] + "@" + b[2]).join(" ")}\ncli ${vcli.length}: ${vcli.map(b => b.event + "@" + b.t).join(" ")}`);
    ok(heads.length === 3 && /^break 1: preroll at content 0\.000 s/.test(heads[0]) &&
       /^break 2: midroll at content 30\.000 s/.test(heads[1]) && /^break 3: postroll at content 60\.000 s.*404/.test(heads[2]),
       "the table heads each break: preroll, midroll at 50% of 60 s, postroll", heads.join(" | "));
    const byUrl = (re) => rows.find(r => re.test(r[4]));
    ok(byUrl(/pre-bs\?bp=1$/) && byUrl(/p1-imp\?n=1&bp=1$/)[1] === "1" && byUrl(/p2-imp\?n=2&bp=1$/)[1] === "2",
       "preroll: breakStart, then the pod in sequence order with ADCOUNT and BREAKPOSITION");
    ok(rows.some(r => r[0] === "1" && r[1] === "2" && r[3] === "mute"), "the addressed event plays in ad 2 of break 1");
    ok(byUrl(/mid-bs\?bp=2$/) && rows.some(r => r[0] === "2" && r[3] === "impression" && r[2] === "30.00"),
       "midroll: the AdTagURI served on loopback plays at content 30 s");
    ok(byUrl(/post-err\?c=1008&bp=3$/), "postroll: a 404 AdTagURI fires the break's error with 1008");
    await page.screenshot({ path: path.join(ART, "inspect-play-vmap.png"), fullPage: true });

    /* 5. Dashboard: fire beacons at the collector and watch the funnel follow. */
    const dash = await newPage();
    await dash.goto(BASE + "/");
    await dash.waitForFunction(() => /^live/.test(document.getElementById("status").textContent));
    const sent = { impression: 5, start: 4, firstQuartile: 3, midpoint: 2, thirdQuartile: 2, complete: 1 };
    const codes = [];
    for (const [ev, n] of Object.entries(sent))
      for (let i = 0; i < n; i++) codes.push(await hit(`/t/${ev}?ad=browser-ad&sid=s${i}`));
    codes.push(await hit("/t/error?ad=browser-ad&code=402"));
    ok(codes.every(c => c === 200), "the collector answered every beacon 200", codes.join(","));
    const labels = ["impression", "start", "Q1", "midpoint", "Q3", "complete"];
    const want5 = Object.values(sent);
    let bars = null;
    try {
      await dash.waitForFunction(w => {
        const r = [...document.querySelectorAll("#funnel rect")].map(x => Number(x.dataset.n));
        return r.length === w.length && r.every((n, i) => n === w[i]);
      }, want5, { timeout: 10000 });
    } catch (e) { /* reported below */ }
    bars = await dash.$$eval("#funnel rect", rs => rs.map(r => [r.dataset.event, Number(r.dataset.n)]));
    ok(JSON.stringify(bars) === JSON.stringify(labels.map((l, i) => [l, want5[i]])),
       "the funnel chart shows the beacons fired (impression->start->Q1->mid->Q3->complete)", JSON.stringify(bars));
    const rowText = await dash.$eval("#ads tbody", t => t.textContent).catch(() => "");
    ok(/browser-ad/.test(rowText) && /20\.0%/.test(rowText), "the per-ad table shows the ad and its complete rate", rowText);
    const errText = await dash.$eval("#errors tbody", t => t.textContent);
    ok(/402/.test(errText) && /Timeout|timeout/.test(errText), "error code 402 is counted with its meaning", errText);
    await dash.screenshot({ path: path.join(ART, "dashboard.png"), fullPage: true });

    /* 6. Narrow screen: nothing wider than the viewport. */
    for (const p of ["/", "/inspect"]) {
      const narrow = await newPage({ width: 360, height: 740 });
      await narrow.goto(BASE + p);
      if (p === "/") await narrow.waitForFunction(() => /^live/.test(document.getElementById("status").textContent));
      const [sw, cw] = await narrow.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      ok(sw <= cw, `${p} fits a 360 px wide screen`, `${sw} > ${cw}`);
      await narrow.screenshot({ path: path.join(ART, `narrow${p === "/" ? "-dashboard" : "-inspect"}.png`), fullPage: true });
      await narrow.close();
    }

    /* 7. No errors or warnings in the console of any page. */
    ok(consoleErrors.length === 0, "no console errors", consoleErrors.join("\n"));
  } finally {
    await browser.close();
    samples.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(failed ? 1 : 0), e => {
  console.log(`not ok - browser: test run failed: ${String(e.message || e).split("\n")[0]}`);
  process.exit(1);
});
