// Shared by the browser tests: the real `mixi-search serve` on 127.0.0.1 (port 0), and Debian's
// chromium driven by playwright-core. ctest sets MIXI_BINARY, MIXI_SOURCE_DIR and
// MIXI_TEST_OUTPUT (where screenshots go); run by hand, the defaults point into build/.
import { spawn, execFileSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const sourceDir = process.env.MIXI_SOURCE_DIR ?? path.resolve(here, "../..");
export const binary = process.env.MIXI_BINARY ?? path.join(sourceDir, "build/cli/mixi-search");
export const outputDir =
  process.env.MIXI_TEST_OUTPUT ?? path.join(sourceDir, "build/test-output/browser");
export const chromiumPath = process.env.MIXI_CHROMIUM ?? "/usr/bin/chromium";

let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  throw new Error("playwright-core is not installed: run `npm ci` in tests/browser " +
                  "(scripts/test.sh does)");
}

/// A fresh temporary directory, removed when the process exits.
export function tempDir(prefix = "mixi-browser-") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/// Runs the CLI; throws with its stderr when it fails.
export function cli(...args) {
  return execFileSync(binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/// Starts `mixi-search serve --port 0 ...args` and resolves when it prints its address.
export async function startServer(args) {
  const child = spawn(binary, ["serve", "--address", "127.0.0.1", "--port", "0", ...args],
                      { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", chunk => { stderr += chunk; });
  const lines = readline.createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, "line").then(([line]) => line),
    once(child, "exit").then(([code]) => { throw new Error(`serve exited ${code}: ${stderr}`); }),
    new Promise((_, reject) => setTimeout(() => reject(new Error("serve did not start")), 10000)),
  ]);
  if (!first.startsWith("http://127.0.0.1:")) throw new Error(`unexpected first line: ${first}`);
  return {
    url: first,
    log: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

/// Debian's chromium, headless, with nothing that would call another host on its own.
export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-extensions"],
  });
}

/// A new browser context and page that let requests reach only 127.0.0.1: every request URL is
/// recorded in `requests`, and any to another host is aborted and recorded in `outside`.
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const requests = [], outside = [], errors = [];
  await context.route("**/*", route => {
    const url = new URL(route.request().url());
    requests.push(url.href);
    if (url.hostname === "127.0.0.1") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", err => errors.push(String(err)));
  page.on("console", msg => { if (msg.type() === "error") errors.push(msg.text()); });
  return { context, page, requests, outside, errors };
}

/// Saves a full-page screenshot under the test output and returns its path.
export async function screenshot(page, name) {
  fs.mkdirSync(outputDir, { recursive: true });
  const file = path.join(outputDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/// Polls `probe` until it returns a truthy value (returned), or throws after `ms`.
export async function eventually(probe, ms = 5000, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}
