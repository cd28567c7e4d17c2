// ssai.cjs: the SSAI service's page (lib/ssai/ssai-page.html, served at / by
// `vastrack ssai`) in Debian's chromium driven by playwright-core. Started by
// tests/e2e/ssai-page.sh, which runs the service, plays one session whose
// beacons the service itself answers, and passes:
//   BASE       the service's URL (http://127.0.0.1:PORT)
//   SENT       the beacons sent, as its /metrics said once idle
//   KAFKA_PARTITIONS  the Kafka source's partitions (it applied one message,
//              refused); empty: no --source
//   ARTIFACTS  where the screenshot goes
// Prints one `ok - ssai page: ...` / `not ok - ssai page: ...` line per check.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const BASE = process.env.BASE;
const SENT = process.env.SENT;
const KAFKA_PARTITIONS = process.env.KAFKA_PARTITIONS || "";
const ART = process.env.ARTIFACTS;
fs.mkdirSync(ART, { recursive: true });
let failed = 0;
function ok(cond, name, detail) {
  console.log(`${cond ? "ok" : "not ok"} - ssai page: ${name}`);
  if (!cond) {
    failed++;
    if (detail !== undefined) console.log("#   " + String(detail).split("\n").join("\n#   "));
  }
}

async function main() {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "vastrack-chromium-"));
  const browser = await chromium.launchPersistentContext(userDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1100, height: 800 },
    timeout: 30000,
  });
  const errors = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(15000);
    page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", e => errors.push(e.message));
    await page.goto(BASE + "/");
    await page.waitForFunction(() => /^read at/.test(document.getElementById("updated").textContent));
    const text = id => page.$eval("#" + id, e => e.textContent);
    ok(await text("sessions") === "1", "one session", await text("sessions"));
    ok(await text("sent") === SENT, `beacons sent: ${SENT}, as /metrics says`, await text("sent"));
    ok(await text("due") === SENT && await text("pending") === "0", "due = sent, none pending",
       `${await text("due")} ${await text("pending")}`);
    ok(await text("failed") === "0" && await text("expired") === "0", "none failed or expired");
    const rows = await page.$$eval("#lateness tbody tr", trs => trs.map(tr =>
      ({ le: tr.dataset.le, n: Number(tr.cells[1].textContent.replace(/,/g, "")) })));
    const total = rows.reduce((a, r) => a + r.n, 0);
    ok(rows.length === 12 && rows[11].le === "+Inf", "lateness histogram: 12 buckets", JSON.stringify(rows));
    ok(String(total) === SENT, "lateness histogram counts every beacon sent", total);
    ok(/ms|s/.test(await text("p99")), "p99 shown", await text("p99"));
    const kafkaShown = await page.$eval("#kafka", e => !e.hidden);
    if (KAFKA_PARTITIONS) {
      ok(kafkaShown, "Kafka section shown (a --source runs)");
      ok(await text("k_partitions") === KAFKA_PARTITIONS,
         `Kafka: ${KAFKA_PARTITIONS} partitions, as /metrics says`, await text("k_partitions"));
      ok(await text("k_messages") === "1" && await text("k_refused") === "1" &&
         await text("k_lag") === "0", "Kafka: 1 message applied, 1 refused, lag 0",
         `${await text("k_messages")} ${await text("k_refused")} ${await text("k_lag")}`);
    } else {
      ok(!kafkaShown, "no Kafka section without a --source");
    }
    /* without the consumer's figures in /metrics the section goes away */
    ok(await page.evaluate(() => {
      render(parse("vastrack_ssai_sessions 1\n"));
      return document.getElementById("kafka").hidden;
    }), "Kafka section hidden when /metrics has no vastrack_ssai_kafka_*");
    /* the page follows the service: end the session, the figure drops */
    await page.evaluate(() => fetch("/v1/sessions/p1", { method: "DELETE" }));
    await page.waitForFunction(() => document.getElementById("sessions").textContent === "0");
    ok(true, "reads again: the ended session leaves the count");
    await page.screenshot({ path: path.join(ART, "ssai-page.png"), fullPage: true });
    ok(errors.length === 0, "no console errors", errors.join("\n"));
  } finally {
    await browser.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(failed ? 1 : 0), e => {
  console.log("not ok - ssai page: run: " + e.message);
  process.exit(1);
});
