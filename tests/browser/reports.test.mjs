// The analysts' page: /reports in headless chromium draws the admin reports of a real server;
// its bars must match the data, terms below the thresholds never appear, and nothing is asked
// of another host.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { cli, eventually, launchBrowser, openPage, screenshot, sourceDir, startServer, tempDir }
  from "./lib.mjs";

const adminKey = "browser-test-admin-key";
let server, browser, dir;

// Who searched what today: [query, searches, distinct people]. Thresholds are k=4 searches and
// k_distinct=2 people, so "travel" (3 searches by 1 person) must stay hidden.
const traffic = [["hiking", 12, 6], ["photography", 8, 4], ["camera", 5, 3], ["travel", 3, 1],
                 ["xyzzy nothing", 6, 3]];

before(async () => {
  dir = tempDir();
  cli("index", "build", "--index", path.join(dir, "index"),
      path.join(sourceDir, "data/sample.ndjson"));
  server = await startServer([
    "--index", path.join(dir, "index"), "--data", path.join(dir, "data"),
    "--web-root", path.join(sourceDir, "web"),
    "--set", `auth.admin_keys=${adminKey}`, "--set", "server.trusted_proxies=127.0.0.1",
    "--set", "analytics.report_k=4", "--set", "analytics.report_k_distinct=2",
    "--set", `geoip.database=${path.join(sourceDir, "tests/fixtures/geoip/GeoIP2-Country-Test.mmdb")}`,
  ]);
  // People differ by network (a searcher is an IPv4 /24): 81.2.60.1, 81.2.61.1, ...
  for (const [query, searches, people] of traffic) {
    for (let i = 0; i < searches; ++i) {
      const res = await fetch(`${server.url}/v1/search?q=${encodeURIComponent(query)}`,
                              { headers: { "X-Forwarded-For": `81.2.${60 + (i % people)}.1` } });
      assert.equal(res.status, 200, await res.text());
    }
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function report(kind) {
  const res = await fetch(`${server.url}/v1/admin/reports/${kind}?top=20`,
                          { headers: { Authorization: `Bearer ${adminKey}` } });
  assert.equal(res.status, 200);
  return res.json();
}

test("the charts' bars match the reports, and no term below the thresholds appears", async () => {
  const popular = await report("popular");
  const volume = await report("volume");
  assert.deepEqual(popular.terms.map(t => [t.query, t.searches]),
                   [["hiking", 12], ["photography", 8], ["xyzzy nothing", 6], ["camera", 5]]);
  assert.equal(popular.other_searches, 3);

  const { page, requests, outside, errors } = await openPage(browser);
  await page.goto(`${server.url}/reports`);
  await page.fill("#key", adminKey);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => /searches;/.test(document.getElementById("status").textContent));

  // Popular terms: one bar per term, in order, each as long as its share of the largest.
  const bars = await page.$$eval("#popular-chart g", gs => gs.map(g => ({
    term: g.dataset.term, value: Number(g.dataset.value),
    width: Number(g.querySelector("rect").getAttribute("width")),
    label: g.querySelector("text").textContent })));
  assert.deepEqual(bars.map(b => [b.term, b.value, b.label]),
                   popular.terms.map(t => [t.query, t.searches, t.query]));
  const widest = bars[0].width;
  assert.ok(widest > 100, `the largest bar is ${widest} wide`);
  for (const b of bars)
    assert.ok(Math.abs(b.width - widest * b.value / bars[0].value) <= 1, JSON.stringify(b));

  // Searches per day: one bar per day of the period, heights in proportion.
  const days = await page.$$eval("#volume-chart g", gs => gs.map(g => ({
    day: g.dataset.day, value: Number(g.dataset.value),
    height: Number(g.querySelector("rect").getAttribute("height")) })));
  assert.equal(days.length, 30);
  assert.deepEqual(days.map(d => [d.day, d.value]), volume.days.map(d => [d.day, d.searches]));
  const total = traffic.reduce((sum, [, searches]) => sum + searches, 0);
  assert.equal(days.at(-1).value, total);
  const tallest = Math.max(...days.map(d => d.height));
  for (const d of days)
    assert.ok(Math.abs(d.height - tallest * d.value / total) <= 1, JSON.stringify(d));

  // Share without results: today 6 of 34 searches found nothing.
  const share = await page.$$eval("#zero-share-chart g", gs => gs.map(g => Number(g.dataset.value)));
  assert.ok(Math.abs(share.at(-1) - 6 / total) < 1e-9, String(share.at(-1)));
  const gaps = await page.$$eval("#zero-results-table tbody tr",
                                 rows => rows.map(r => r.textContent));
  assert.deepEqual(gaps, ["xyzzy nothing66", "(other)0"]); // cells run together in textContent

  const text = await page.textContent("body");
  assert.ok(!text.includes("travel"), "a term below the thresholds is shown");
  assert.ok(text.includes("(other)"));
  await screenshot(page, "reports");
  await page.emulateMedia({ media: "print" });
  await screenshot(page, "reports-print");

  assert.deepEqual(outside, [], "requests to another host");
  assert.ok(requests.every(u => u.startsWith(server.url)), requests.join("\n"));
  assert.deepEqual(errors, []);
});

test("a wrong admin key shows the server's refusal and draws nothing", async () => {
  const { page, outside } = await openPage(browser);
  await page.goto(`${server.url}/reports`);
  await page.fill("#key", "not-the-key");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => /Could not load/.test(document.getElementById("status").textContent));
  assert.equal(await page.$$eval("#popular-chart g", gs => gs.length), 0);
  assert.deepEqual(outside, []);
});
