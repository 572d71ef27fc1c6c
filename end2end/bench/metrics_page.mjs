// The browser half of `server/benches/metrics_page.rs` (`make bench`), which runs it as
// `node metrics_page.mjs '{"page": URL, "peer": URL, "loads": N, "chromium": PATH}'` and reads
// the one JSON report it prints on stdout (errors go to stderr, with exit code 1).
//
// The page: a job's metrics page in headless Chromium, timed from navigation start until the
// four charts are drawn (a line path in each plot, or the panel's "no data" note) and the
// executors table is there, at the next frame. The peer: Chromium showing Prometheus' answer to
// the memory query as a plain document, timed to its load event's next frame. Both are timed
// inside the page (`performance.now()`, whose origin is the navigation's start), so the
// round trips of this script to the browser are not in the figures.
//
// Every load is a first visit: a new browser context each time (empty cache, no cookies), in a
// browser Playwright launched with a fresh user-data-dir of its own. Bytes are as transferred
// (CDP's encodedDataLength: compressed bodies and headers), sorted by what they were.
import { chromium } from "playwright";

const TIMEOUT_MS = 180_000;
const CHARTS = ["memory", "cpu", "throttling", "executors"];
/** Debian's Chromium, as the browser tests launch it (end2end/shared.ts). */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Runs in the page before its own scripts: records in `window.__bench` when it is done. */
function watch({ mode, charts }) {
  const nextFrame = (dom) =>
    requestAnimationFrame(() => setTimeout(() => (window.__bench = { dom, rendered: performance.now() }), 0));
  if (mode === "document") {
    // Shown: loaded, and its text painted (a big text document paints after its load event).
    let loaded = null;
    let painted = null;
    const finish = () => {
      if (loaded !== null && painted !== null) window.__bench = { dom: loaded, rendered: Math.max(loaded, painted) };
    };
    addEventListener("load", () => requestAnimationFrame(() => setTimeout(() => ((loaded = performance.now()), finish()), 0)));
    new PerformanceObserver((list) => {
      const fcp = list.getEntriesByName("first-contentful-paint")[0];
      if (fcp) (painted = fcp.startTime), finish();
    }).observe({ type: "paint", buffered: true });
    return;
  }
  const drawn = (kind) => {
    const panel = document.querySelector(`[data-testid=chart-${kind}]`);
    if (!panel) return false;
    if (panel.querySelector("[data-testid=chart-empty]")) return true;
    const line = panel.querySelector("[data-testid=plot] g._chartistry_line path[d]");
    return line !== null && line.getAttribute("d").length > 0;
  };
  let seen = false;
  const observer = new MutationObserver(() => {
    if (seen) return;
    const failed = document.querySelector("[data-testid=metrics-error]");
    if (failed) {
      seen = true;
      window.__bench = { error: failed.textContent };
    } else if (charts.every(drawn) && document.querySelector("[data-testid=executors]")) {
      seen = true;
      observer.disconnect();
      nextFrame(performance.now());
    }
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["d", "data-testid"] });
}

/** Every request of `page` and the bytes it brought, from the DevTools protocol. */
async function recordNetwork(context, page) {
  const requests = new Map();
  const cdp = await context.newCDPSession(page);
  cdp.on("Network.requestWillBeSent", (e) => {
    if (!requests.has(e.requestId)) requests.set(e.requestId, { url: e.request.url, type: e.type, streamed: 0, total: null });
  });
  cdp.on("Network.dataReceived", (e) => {
    const r = requests.get(e.requestId);
    // Chromium leaves encodedDataLength at 0 here for some requests (the EventSource); the
    // stream is not compressed, so its decoded length is what came over the wire.
    if (r) r.streamed += e.encodedDataLength || e.dataLength;
  });
  cdp.on("Network.loadingFinished", (e) => {
    const r = requests.get(e.requestId);
    if (r) r.total = e.encodedDataLength;
  });
  await cdp.send("Network.enable");
  return requests;
}

/** What a request was for: the data (the metrics answer, or the plain document itself), the
 * page's own assets, or the job's live stream. */
function category(request, mode) {
  if (mode === "document") return "data";
  const path = new URL(request.url).pathname;
  if (path.startsWith("/api/") && path.endsWith("/metrics")) return "data";
  if (path.startsWith("/api/")) return "stream";
  if (request.type === "Document") return "html";
  if (path.endsWith(".wasm")) return "wasm";
  if (path.endsWith(".js")) return "js";
  if (path.endsWith(".css")) return "css";
  return "other";
}

/** Bytes by category; a request still open (the job's live stream) counts what it got so far. */
function bytesOf(requests, mode) {
  const bytes = { html: 0, js: 0, wasm: 0, css: 0, other: 0, data: 0, stream: 0 };
  for (const r of requests.values()) bytes[category(r, mode)] += r.total ?? r.streamed;
  bytes.page = bytes.html + bytes.js + bytes.wasm + bytes.css + bytes.other;
  bytes.total = bytes.page + bytes.data + bytes.stream;
  return bytes;
}

/** One cold load of `url`: the page ("page") or a plain document ("document"). */
async function load(browser, url, mode) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  try {
    const page = await context.newPage();
    const requests = await recordNetwork(context, page);
    await page.addInitScript(watch, { mode, charts: CHARTS });
    await page.goto(url, { waitUntil: "commit", timeout: TIMEOUT_MS });
    await page.waitForFunction(() => window.__bench !== undefined, undefined, { timeout: TIMEOUT_MS, polling: 50 });
    // When the data was asked for and when it was in: the metrics call (sent once the page is
    // hydrated), or the document itself.
    const timing = await page.evaluate((mode) => {
      const fcp = performance.getEntriesByName("first-contentful-paint")[0];
      const data =
        mode === "page"
          ? performance.getEntriesByType("resource").find((e) => new URL(e.name).pathname.endsWith("/metrics"))
          : performance.getEntriesByType("navigation")[0];
      return { ...window.__bench, fcp_ms: fcp?.startTime ?? null, data_start_ms: data?.startTime ?? null, data_end_ms: data?.responseEnd ?? null };
    }, mode);
    if (timing.error) throw new Error(`${url} says: ${timing.error}`);
    const panels =
      mode === "page"
        ? await page.evaluate((charts) => {
            const state = (kind) =>
              document.querySelector(`[data-testid=chart-${kind}] [data-testid=chart-empty]`) ? "empty" : "plot";
            return Object.fromEntries(charts.map((kind) => [kind, state(kind)]));
          }, CHARTS)
        : {};
    const errors = await page.locator("[data-testid=panel-error]").allTextContents();
    // The last responses' loadingFinished may trail the frame the page was drawn in.
    await page.waitForTimeout(300);
    const { rendered: rendered_ms, dom: dom_ms, fcp_ms, data_start_ms, data_end_ms } = timing;
    const list = [...requests.values()].map((r) => ({
      path: new URL(r.url).pathname,
      category: category(r, mode),
      bytes: r.total ?? r.streamed,
      finished: r.total !== null,
    }));
    return { rendered_ms, dom_ms, fcp_ms, data_start_ms, data_end_ms, panels, errors, bytes: bytesOf(requests, mode), requests: list };
  } finally {
    await context.close();
  }
}

async function main() {
  const config = JSON.parse(process.argv[2] ?? "");
  if (!config.page || !config.peer || !config.loads) throw new Error(`usage: node metrics_page.mjs '{"page", "peer", "loads", "chromium"}'`);
  const browser = await chromium.launch({ executablePath: config.chromium ?? "/usr/bin/chromium", args: ARGS });
  try {
    // Warm-up: the browser's own first-use costs (processes, compilers) land on neither side.
    await load(browser, config.page, "page");
    await load(browser, config.peer, "document");
    const report = { chromium: browser.version(), page: [], peer: [] };
    // Interleaved, so that a busy moment of the machine falls on both alike.
    for (let i = 0; i < config.loads; i++) {
      report.page.push(await load(browser, config.page, "page"));
      report.peer.push(await load(browser, config.peer, "document"));
    }
    process.stdout.write(JSON.stringify(report) + "\n");
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(`metrics_page.mjs: ${error.stack ?? error}`);
  process.exit(1);
});
