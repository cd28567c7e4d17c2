// player.cjs: a real player nobody here wrote, certified. A page in Debian's
// chromium plays the test ad server's tag with a real <video> element (media
// made at test time by ffmpeg) driven by @dailymotion/vast-client's VASTClient
// and VASTTracker, so a real client fires real beacons at the collector; then
// `vastrack report --conformance` judges the session. Started by
// tests/e2e/player.sh, which runs `vastrack serve` and passes:
//   BASE      the collector's URL (http://127.0.0.1:PORT)
//   VASTRACK  the binary      DB  the collector's database
//   MEDIA     the .webm file  ARTIFACTS  where screenshots go
// The page, the client and the media are served on the collector's origin by
// the browser itself (page.route), so /vast needs no CORS.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");

const { BASE, VASTRACK, DB, MEDIA, ARTIFACTS } = process.env;
const CLIENT = path.join(__dirname, "node_modules/@dailymotion/vast-client/dist/vast-client.min.js");
fs.mkdirSync(ARTIFACTS, { recursive: true });

let failed = 0;
function ok(cond, name, detail) {
  console.log(`${cond ? "ok" : "not ok"} - player: ${name}`);
  if (!cond) {
    failed++;
    if (detail !== undefined) console.log("#   " + String(detail).split("\n").join("\n#   "));
  }
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>vast-client player</title>
<video id="v" width="320" height="180" playsinline></video>
<script type="module">
import { VASTClient, VASTTracker } from "/player/vast-client.js";
// play(tag, actions): plays the tag's first linear creative; actions are
// [seconds of media time, "mute"|"pause"|"resume"|"skip"], applied once each.
window.play = async (tag, actions) => {
  const client = new VASTClient();
  const res = await client.get(tag, { withCredentials: false });
  const ad = res.ads[0];
  const creative = ad.creatives.find(c => c.type === "linear");
  const tracker = new VASTTracker(client, ad, creative);
  const v = document.getElementById("v");
  const log = [];
  return new Promise(done => {
    let started = false, finished = false;
    const finish = why => { if (!finished) { finished = true; log.push(why); done(log); } };
    const todo = (actions || []).slice();
    v.addEventListener("playing", () => {
      if (!started) { started = true; tracker.trackImpression(); }
      else tracker.setPaused(false);
    });
    v.addEventListener("pause", () => { if (!v.ended && !finished) tracker.setPaused(true); });
    v.addEventListener("volumechange", () => tracker.setMuted(v.muted));
    v.addEventListener("timeupdate", () => {
      if (finished) return;
      tracker.setProgress(v.currentTime);
      while (todo.length && v.currentTime >= todo[0][0]) {
        const a = todo.shift()[1];
        log.push(a + "@" + v.currentTime.toFixed(2));
        if (a === "mute") v.muted = true;
        else if (a === "pause") { v.pause(); setTimeout(() => v.play(), 1000); }
        else if (a === "skip") { tracker.skip(); v.pause(); finish("skipped"); }
      }
    });
    v.addEventListener("ended", () => { tracker.complete(); finish("ended"); });
    v.addEventListener("error", () => { tracker.errorWithCode("405"); finish("error"); });
    v.src = creative.mediaFiles[0].fileURL;
    v.play().catch(() => {});
  });
};
window.ready = true;
</script>`;

function sql(q) {
  return execFileSync("sqlite3", [DB, q], { encoding: "utf8" }).trim();
}
// A real <video> on a loaded 2-core CI machine: beacon arrival jitters by several
// hundred ms (seen: firstQuartile 0.797 s into a 4 s ad under load), so the early
// bound gets 1 s here. The timing rules at their default bounds are proven by the
// scripted players of tests/e2e/certify.sh; this test is about which events fire.
function conformance(sid) {
  try {
    return { rc: 0, out: execFileSync(VASTRACK, ["report", "--db", DB, "--conformance", sid, "--early-ms", "1000"],
                                      { encoding: "utf8" }) };
  } catch (e) {
    return { rc: e.status, out: String(e.stdout) + String(e.stderr) };
  }
}
/* The session's beacons: "event@level" sorted, duplicates kept. */
function events(sid) {
  return sql(`SELECT event || '@' || COALESCE(substr(query, instr(query, '&lv=') + 4, 1), '?') FROM hits
              WHERE sid='${sid}' AND event <> 'served' ORDER BY event, query`).split("\n").filter(Boolean);
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

(async () => {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "vastrack-player-"));
  const browser = await chromium.launchPersistentContext(userDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--autoplay-policy=no-user-gesture-required"],
  });
  try {
    const page = await browser.newPage();
    await page.route(BASE + "/player/**", route => {
      const u = new URL(route.request().url());
      if (u.pathname === "/player/") return route.fulfill({ contentType: "text/html", body: PAGE });
      if (u.pathname === "/player/vast-client.js")
        return route.fulfill({ contentType: "text/javascript", body: fs.readFileSync(CLIENT) });
      if (u.pathname === "/player/ad.webm")
        return route.fulfill({ contentType: "video/webm", body: fs.readFileSync(MEDIA) });
      return route.fulfill({ status: 404, body: "" });
    });
    await page.goto(BASE + "/player/");
    await page.waitForFunction(() => window.ready === true);
    const media = encodeURIComponent(BASE + "/player/ad.webm");

    // 1. A plain full play through a one-wrapper chain: clean.
    let log = await page.evaluate(t => window.play(t, []), `${BASE}/vast?sid=full1&wrapper=1&dur=4&media=${media}`);
    ok(log[log.length - 1] === "ended", "full play ends", log.join(" "));
    await sleep(300);
    let ev = events("full1");
    const want = [];
    for (const e of ["complete", "firstQuartile", "impression", "midpoint", "start", "thirdQuartile"])
      want.push(`${e}@0`, `${e}@1`);
    want.splice(8, 0, "progress@1"); /* the InLine's progress offset at half */
    ok(JSON.stringify(ev) === JSON.stringify(want), "full play fires each event once at each level", ev.join(" "));
    let r = conformance("full1");
    ok(r.rc === 0 && /conformant: no finding/.test(r.out), "full play: conformance report clean", r.out);
    await page.screenshot({ path: path.join(ARTIFACTS, "player-full.png") });

    // 2. Mute, pause (1 s) and skip: exactly those events beside the play's own.
    log = await page.evaluate(t => window.play(t, [[0.5, "mute"], [1.2, "pause"], [2.6, "skip"]]),
                              `${BASE}/vast?sid=inter1&dur=4&skip=1&media=${media}`);
    ok(log[log.length - 1] === "skipped", "interactive play is skipped", log.join(" "));
    await sleep(300);
    ev = events("inter1");
    const want2 = ["firstQuartile@0", "impression@0", "midpoint@0", "mute@0", "pause@0", "progress@0",
                   "resume@0", "skip@0", "start@0"];
    ok(JSON.stringify(ev) === JSON.stringify(want2), "mute/pause/skip play: exactly those events", ev.join(" "));
    r = conformance("inter1");
    ok(r.rc === 0, "mute/pause/skip play: conformant", r.out);

    // 3. Media that cannot be played: one Error beacon with the player's code.
    log = await page.evaluate(t => window.play(t, []),
                              `${BASE}/vast?sid=err1&dur=4&media=${encodeURIComponent(BASE + "/player/missing.webm")}`);
    ok(log[log.length - 1] === "error", "broken media ends in an error", log.join(" "));
    await sleep(300);
    ev = events("err1");
    ok(JSON.stringify(ev) === JSON.stringify(["error@0"]), "error play: exactly one error beacon", ev.join(" "));
    ok(sql("SELECT code FROM hits WHERE sid='err1' AND event='error'") === "405", "error beacon carries ERRORCODE 405");
    r = conformance("err1");
    ok(r.rc === 0, "error play: conformant", r.out);
  } catch (e) {
    ok(false, "player run", e.stack);
  } finally {
    await browser.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
})();
