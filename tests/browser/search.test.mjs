// The search page at / in headless chromium, against a real server over the sample site of the
// demo (data/site in five languages and data/sample.ndjson): search-as-you-type with highlighted
// snippets, facets, Japanese, the language cookie, the keyboard-only combobox, 360 px, the empty
// and error states, and the page-view beacon. No request may leave 127.0.0.1.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { cli, eventually, launchBrowser, openPage, screenshot, sourceDir, startServer, tempDir }
  from "./lib.mjs";

let server, browser, dir;
const opened = []; // every page's records, checked at the end

before(async () => {
  dir = tempDir();
  cli("index", "build", "--index", path.join(dir, "index"), "--threads", "2",
      path.join(sourceDir, "data/site"), path.join(sourceDir, "data/sample.ndjson"));
  server = await startServer([
    "--index", path.join(dir, "index"), "--data", path.join(dir, "data"),
    "--web-root", path.join(sourceDir, "web"), "--set", "analytics.flush_interval_ms=100",
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(options) {
  const o = await openPage(browser, options);
  opened.push(o);
  return o;
}

// What the results list shows: per hit its language, link, type line and snippet (text and marks).
function hits(page) {
  return page.$$eval("#hits > li", lis => lis.map(li => ({
    lang: li.lang, href: li.querySelector("h2 a")?.getAttribute("href") ?? null,
    title: li.querySelector("h2").textContent, meta: li.querySelector(".meta").textContent,
    snippet: li.querySelector(".snippet").textContent,
    marks: [...li.querySelectorAll(".snippet mark")].map(m => m.textContent),
    elements: [...li.querySelectorAll(".snippet *")].map(e => e.localName) })));
}

const statusText = page => page.textContent("#status");

test("typing shows highlighted results as you type; Enter shows facets; a facet narrows them", async () => {
  const { page } = await open({ viewport: { width: 1100, height: 800 } });
  await page.goto(server.url + "/");
  await page.locator("#q").pressSequentially("night", { delay: 20 });
  await page.waitForFunction(() => /so far for “night”/.test(document.getElementById("status").textContent));
  let shown = await hits(page);
  assert.ok(shown.length > 0);
  assert.ok(shown.some(h => h.marks.includes("night")), JSON.stringify(shown));
  assert.ok(shown.every(h => h.elements.every(e => e === "mark")), "only <mark> inside snippets");
  assert.equal(await page.isHidden("#facets"), true, "no facets while typing");

  await page.keyboard.press("Enter");
  await page.waitForSelector("#facets:not([hidden]) input[name=type][value=photo]");
  assert.match(page.url(), /\/\?q=night$/);
  const before = Number((await statusText(page)).match(/^(\d+) results?/)[1]);
  const types = new Set((await hits(page)).map(h => h.meta.split(" · ")[0]));
  assert.ok(types.size > 1, `several types before the facet: ${[...types]}`);
  await screenshot(page, "search-results");

  await page.check("input[name=type][value=photo]");
  await page.waitForFunction(() => /type=photo/.test(location.search));
  await page.waitForFunction(() => !/Searching/.test(document.getElementById("status").textContent));
  shown = await hits(page);
  const after = Number((await statusText(page)).match(/^(\d+) results?/)[1]);
  assert.ok(after > 0 && after < before, `${after} of ${before}`);
  assert.ok(shown.every(h => h.meta.startsWith("Photo")), JSON.stringify(shown.map(h => h.meta)));
  assert.equal(await page.isChecked("input[name=type][value=photo]"), true);
});

test("snippet markup: escapes become text, matches become <mark>, nothing else", async () => {
  const { page } = await open();
  await page.goto(server.url + "/?q=apt-file");
  await page.waitForSelector("#hits > li");
  const shown = await hits(page);
  // The server sends file&#39;s inside a <mark>.
  assert.ok(shown.some(h => h.marks.includes("file's")), JSON.stringify(shown[0]));
  for (const h of shown) {
    assert.ok(!/&(amp|lt|gt|quot|#39);|<\/?mark>/.test(h.snippet), h.snippet);
    assert.ok(h.elements.every(e => e === "mark"), JSON.stringify(h.elements));
  }
  assert.equal(shown[0].href, "/en/debian-handbook/sect.apt-file.html"); // the site's own link
});

test("a Japanese query finds Japanese pages of both sources", async () => {
  const { page } = await open();
  await page.goto(server.url + "/");
  await page.locator("#q").pressSequentially("パッケージ");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#facets:not([hidden])");
  let shown = await hits(page);
  assert.ok(shown.length > 0);
  assert.ok(shown.every(h => h.lang === "ja"), JSON.stringify(shown.map(h => [h.lang, h.href])));
  assert.ok(shown.some(h => h.href.startsWith("/ja/")), "a page of data/site/ja");
  assert.ok(shown.some(h => h.marks.includes("パッケージ")));

  await page.fill("#q", "東京都で写真");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /東京都で写真/.test(document.getElementById("status").textContent));
  shown = await hits(page);
  assert.equal(shown[0].href, "https://example.social/photos/2001"); // p-001 of sample.ndjson
  assert.equal(shown[0].lang, "ja");
  await screenshot(page, "search-japanese");
});

test("picking a language sets the lang cookie and no other", async () => {
  const { page, context } = await open();
  await page.goto(server.url + "/?q=hiking");
  await page.waitForSelector("#hits > li");
  assert.deepEqual(await context.cookies(), [], "no cookie before a language is picked");
  const prefs = page.waitForResponse(r => r.url().endsWith("/v1/prefs"));
  await page.selectOption("#lang", "ja");
  assert.equal((await prefs).status(), 204);
  const cookies = await context.cookies();
  assert.deepEqual(cookies.map(c => [c.name, c.value, c.domain, c.path, c.httpOnly]),
                   [["lang", "ja", "127.0.0.1", "/", false]]);
  // A new page shows the choice; going back to the browser's language forgets the cookie.
  await page.reload();
  assert.equal(await page.inputValue("#lang"), "ja");
  const cleared = page.waitForResponse(r => r.url().endsWith("/v1/prefs"));
  await page.selectOption("#lang", "");
  await cleared;
  assert.deepEqual(await context.cookies(), []);
});

test("the suggestions listbox works with the keyboard alone", async () => {
  const { page } = await open();
  await page.goto(server.url + "/");
  for (let i = 0; i < 5 && !(await page.evaluate(() => document.activeElement.id === "q")); ++i)
    await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "q", "Tab reaches the box");
  await page.keyboard.type("pho");
  await page.waitForSelector("#suggestions:not([hidden]) [role=option]");
  const q = page.locator("#q");
  assert.equal(await q.getAttribute("role"), "combobox");
  assert.equal(await q.getAttribute("aria-expanded"), "true");
  const options = await page.$$eval("#suggestions [role=option]", os => os.map(o => o.textContent));
  assert.equal(options[0], "photography");

  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowUp");
  const active = await q.getAttribute("aria-activedescendant");
  assert.equal(await page.getAttribute(`#${active}`, "aria-selected"), "true");
  assert.equal(await page.textContent(`#${active}`), "photography");
  assert.equal(await page.$$eval("[role=option][aria-selected=true]", os => os.length), 1);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /results? for “photography”/.test(document.getElementById("status").textContent));
  assert.equal(await q.inputValue(), "photography");
  assert.equal(await q.getAttribute("aria-expanded"), "false");
  assert.equal(await page.evaluate(() => document.activeElement.id), "q");

  // Escape closes the list, a second Escape empties the box.
  await page.keyboard.type(" t");
  await page.waitForSelector("#suggestions:not([hidden])");
  await page.keyboard.press("Escape");
  assert.equal(await page.isHidden("#suggestions"), true);
  await page.keyboard.press("Escape");
  assert.equal(await q.inputValue(), "");
  // Tab moves on from the box to the results' filters and links.
  await page.keyboard.type("hiking");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#hits a");
  await page.keyboard.press("Tab"); // the Search button
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.name), "type");
});

test("at 360 px wide nothing scrolls sideways", async () => {
  const { page } = await open({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  for (const q of ["apt-file", "東京都で写真", "photography"]) {
    await page.goto(server.url + "/?q=" + encodeURIComponent(q));
    await page.waitForSelector("#hits > li");
    const [scroll, client] = await page.evaluate(() =>
      [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(scroll <= client, `${q}: ${scroll} > ${client}`);
  }
  await screenshot(page, "search-360");
  await page.locator("#q").fill("");
  await page.locator("#q").pressSequentially("pho");
  await page.waitForSelector("#suggestions:not([hidden])");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth));
  await screenshot(page, "search-360-suggestions");
});

test("a typo shows the results of the word meant, with a link to search the words as typed", async () => {
  const { page } = await open();
  await page.goto(server.url + "/?q=photgraphy");
  await page.waitForSelector("#corrected:not([hidden])");
  assert.equal((await page.textContent("#corrected")).replace(/\s+/g, " ").trim(),
               "Showing results for photography · search instead for photgraphy");
  assert.match(await statusText(page), /results? for “photgraphy”/);
  assert.ok((await hits(page)).length > 0);
  assert.equal(await page.isHidden("#did-you-mean"), true);
  await screenshot(page, "typo-corrected");
  // The link searches the exact words: nothing, and then "did you mean" offers the word.
  await page.click("#exact");
  await page.waitForFunction(() => /typos=0/.test(location.search));
  await page.waitForFunction(() => /No results for “photgraphy”/.test(document.getElementById("status").textContent));
  assert.equal(await page.isHidden("#corrected"), true);
  await page.waitForSelector("#did-you-mean:not([hidden])");
  assert.equal(await page.textContent("#dym"), "photography");
  // Back: the corrected search again.
  await page.goBack();
  await page.waitForSelector("#corrected:not([hidden])");
  assert.ok(!/typos=0/.test(page.url()));
});

test("empty and error states say what happened", async () => {
  const { page } = await open();
  await page.goto(server.url + "/?q=qqqzzzxv");
  await page.waitForFunction(() => /No results for “qqqzzzxv”/.test(document.getElementById("status").textContent));
  await page.goto(server.url + "/?q=!!");
  await page.waitForFunction(() => /Nothing to search for/.test(document.getElementById("status").textContent));
  await page.goto(server.url + "/?q=photgraphy&typos=0");
  await page.waitForSelector("#did-you-mean:not([hidden])");
  await page.click("#dym");
  await page.waitForFunction(() => /results? for “photography”/.test(document.getElementById("status").textContent));
  // The server is down for this page: the page says so and stays usable.
  await page.route("**/v1/search?**", route => route.fulfill({
    status: 503, contentType: "application/json",
    body: '{"error":{"code":"index_unavailable","message":"the search index is not available right now"}}' }));
  await page.fill("#q", "hiking");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /not available right now/.test(document.getElementById("status").textContent));
  assert.equal(await page.getAttribute("#status", "class"), "error");
  assert.equal(await page.$$eval("#hits > li", lis => lis.length), 0);
});

test("beacon.js reports a site page's view; a click on a result is reported too", async () => {
  // A page of the site that includes the beacon from the search server. It is answered here,
  // on the server's origin (chromium refuses a made-up origin's requests to the loopback).
  const { page, requests } = await open();
  const sitePage = `${server.url}/en/debian-handbook/apt.html`;
  await page.route(sitePage, route => route.fulfill({
    contentType: "text/html",
    body: `<!doctype html><title>APT</title><p>A page of the site.</p>
           <script src="${server.url}/beacon.js" data-path defer></script>` }));
  const beacon = page.waitForRequest(r => r.url() === `${server.url}/v1/views`);
  await page.goto(sitePage);
  assert.equal((await beacon).postData(), '{"url":"/en/debian-handbook/apt.html"}');

  // A click on a result (here a site page, so the browser stays on 127.0.0.1).
  await page.goto(server.url + "/?q=apt-file&lang=en");
  const link = page.locator("#hits a[data-id='en/debian-handbook/sect.apt-file.html']");
  const click = page.waitForRequest(r => r.url() === `${server.url}/v1/views`);
  await link.click();
  assert.equal((await click).postData(), '{"id":"en/debian-handbook/sect.apt-file.html"}');
  assert.ok(requests.filter(u => u.endsWith("/v1/views")).length >= 2);

  // Both reached the server's counts (flushed every 100 ms here).
  await eventually(() => /^views: 2 in 2 /m.test(cli("views", "stats", "--data", path.join(dir, "data"))),
                   5000, "two views in the data directory");
  const explained = JSON.parse(cli("query", "--index", path.join(dir, "index"), "--data",
                                   path.join(dir, "data"), "--explain", "--per-page", "100", "--lang", "en", "apt"));
  assert.deepEqual(explained.hits.filter(h => h.explain.views > 0).map(h => h.id).sort(),
                   ["en/debian-handbook/apt.html", "en/debian-handbook/sect.apt-file.html"]);
});

test("no page asked another host, and no page had a script error", () => {
  for (const { outside, errors, requests } of opened) {
    assert.deepEqual(outside, []);
    assert.deepEqual(errors.filter(e => !/status of (400|404|503)/.test(e)), []);
    assert.ok(requests.every(u => new URL(u).hostname === "127.0.0.1"), requests.join("\n"));
  }
});
