// The log viewer with 1,000,000 lines in Chromium (issue "merged job logs"), beside its peer
// measured in the same run: Chromium itself showing the same lines as a text/plain document, the
// API's `format=text` download, which is what a reader has without the viewer. Both are served
// by the synthetic log proxy the tests use, so they carry the same events.
//
// Figures and ratios only: these machines are noisy, so no time is asserted. The benchmark fails
// only when the viewer breaks (never completes, loses events, puts the whole log in the DOM, an
// action never shows its result); a peer that cannot be measured is reported, not failed.
import { errors, expect, test, type Browser, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { event, textLine } from "../tests/pages/log_events";
import { LogProxy } from "../tests/pages/log_proxy";
import { LogsPage } from "../tests/pages/logs_page";

const EVENTS = 1_000_000;
const LAST = `e${EVENTS - 1}`;
/** Found once, near the end, so the search has to read every line. */
const NEEDLE = `line ${EVENTS - 2}`;
/** Long enough for a slow machine; a viewer that needs longer for anything has broken. */
const LIMIT_MS = 10 * 60_000;

/** What the page keeps for the benchmark (see `install`). */
type Probe = {
  /** When each watched selector first matched an element with content (at the frame after), in
   * ms since navigation. */
  seen: Record<string, number>;
  /** The memories the page's WebAssembly exports: the viewer keeps its log there, outside the JS heap. */
  memories: WebAssembly.Memory[];
  /** Ms from `start` until `done()` holds (at the frame after); rejects after the limit. */
  until(start: number, done: () => boolean): Promise<number>;
};

declare global {
  interface Window {
    probe: Probe;
  }
}

/** Runs in the page before its own scripts. Times are taken in the page, at animation frames:
 * polling from the test would add round trips and its own back-off to every figure. A change is
 * timed at the frame after the one that first has it, as by then Chromium has painted it (the
 * frame that has it may wait for a long layout before its paint). */
function install({ watch, limit }: { watch: Record<string, string>; limit: number }) {
  const memories: WebAssembly.Memory[] = [];
  // wasm-bindgen instantiates the viewer through one of these; keep the memory it exports.
  for (const name of ["instantiate", "instantiateStreaming"] as const) {
    const original = WebAssembly[name] as (...args: unknown[]) => Promise<WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource>;
    Object.assign(WebAssembly, {
      [name]: async (...args: unknown[]) => {
        const result = await original.apply(WebAssembly, args);
        const memory = (result instanceof WebAssembly.Instance ? result : result.instance).exports.memory;
        if (memory instanceof WebAssembly.Memory) memories.push(memory);
        return result;
      },
    });
  }
  const seen: Record<string, number> = {};
  let found: string[] = [];
  const look = () => {
    for (const name of found) seen[name] = performance.now();
    found = Object.keys(watch).filter((name) => !(name in seen) && document.querySelector(watch[name])?.firstChild);
    if (Object.keys(seen).length < Object.keys(watch).length) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
  const until = (start: number, done: () => boolean) =>
    new Promise<number>((resolve, reject) => {
      const frame = () => {
        if (done()) requestAnimationFrame(() => resolve(performance.now() - start));
        else if (performance.now() - start > limit) reject(new Error(`not done after ${limit} ms`));
        else requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
  window.probe = { seen, memories, until };
}

/** The probe's marks, once all of `names` are set. */
async function marks(page: Page, names: string[]): Promise<Record<string, number>> {
  await page.waitForFunction((names) => names.every((name) => name in window.probe.seen), names, { timeout: LIMIT_MS });
  return page.evaluate(() => window.probe.seen);
}

/** Chromium's first contentful paint of the page, in ms since navigation. */
async function firstPaint(page: Page): Promise<number | undefined> {
  return page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime);
}

/** Resident memory of the largest renderer process, in bytes: the measured page's, as the
 * others are idle helpers. It counts what the JS heap does not: the DOM, layout, the text. */
async function rendererMemory(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = await cdp.send("SystemInfo.getProcessInfo");
    const rss = (pid: number) => {
      try {
        return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
      } catch {
        return 0; // a process that has just ended
      }
    };
    return Math.max(0, ...processInfo.filter((p) => p.type === "renderer").map((p) => rss(p.id)));
  } finally {
    await cdp.detach();
  }
}

type Viewer = { paint?: number; rows: number; complete: number; end: number; search: number; filter: number; heap: number; wasm: number; memory: number; domRows: number };

/** The viewer: the log loads, then a reader jumps to the end, searches everything and filters by
 * level. Each action is timed from just before it to the frame after the one that has its
 * result; the result is then checked, so a figure is never that of a broken action. */
async function measureViewer(browser: Browser, base: string, job: string): Promise<Viewer> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const watch = { rows: "[data-testid=log-row]", complete: "[data-testid=log-status][data-state=complete]" };
    await page.addInitScript(install, { watch, limit: LIMIT_MS });
    // A script error (a panic in the WebAssembly, say) stops the viewer for good: fail at once
    // rather than at the time limit.
    const crashed = new Promise<never>((_, reject) => page.on("pageerror", (e) => reject(new Error(`the viewer failed: ${e.message}`))));
    const logs = new LogsPage(page);
    await Promise.race([logs.open(job, "", base), crashed]);
    await Promise.race([expect(logs.status).toHaveAttribute("data-state", "complete", { timeout: LIMIT_MS }), crashed]);
    expect(await logs.eventCount()).toBe(EVENTS);
    const { rows, complete } = await marks(page, Object.keys(watch));

    // Memory the log takes once loaded: what stays after a garbage collection.
    const cdp = await context.newCDPSession(page);
    await cdp.send("HeapProfiler.collectGarbage");
    await cdp.send("Performance.enable");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const heap = metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? NaN;
    const wasm = await page.evaluate(() => window.probe.memories.reduce((sum, m) => sum + m.buffer.byteLength, 0));
    const memory = await rendererMemory(browser);
    const domRows = await logs.rows.count();
    expect(domRows, "a window of rows, not the log").toBeLessThan(1000);

    const end = await logs.list.evaluate((list, last) => {
      const start = performance.now();
      list.scrollTop = list.scrollHeight;
      return window.probe.until(start, () => {
        const row = document.querySelector(`[data-testid=log-row][data-id="${last}"]`)?.getBoundingClientRect();
        const box = list.getBoundingClientRect();
        return !!row && row.bottom > box.top && row.top < box.bottom;
      });
    }, LAST);
    expect(await logs.inView(logs.row(LAST))).toBe(true);

    // Enter searches at once (typing waits for a pause) and steps to the first hit; the count
    // ends in "…" while lines remain to search.
    const search = await logs.search.evaluate((input: HTMLInputElement, { count, needle }) => {
      const start = performance.now();
      input.value = needle;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      return window.probe.until(start, () => !!count?.textContent && !count.textContent.endsWith("…"));
    }, { count: await logs.searchCount.elementHandle(), needle: NEEDLE });
    await expect(logs.searchCount).toHaveText("1 of 1");
    await logs.search.press("Escape");
    await expect(logs.searchCount).toHaveText("");

    const filter = await logs.level("ERROR").evaluate((button, status) => {
      const start = performance.now();
      button.click();
      return window.probe.until(start, () => {
        const first = document.querySelector("[data-testid=log-row]")?.getAttribute("data-level") ?? "";
        return !!status?.textContent?.includes("shown") && /ERROR|MARKER/.test(first);
      });
    }, await logs.status.elementHandle());
    expect(await logs.column("data-level")).not.toContain("INFO");

    return { paint: await firstPaint(page), rows, complete, end, search, filter, heap, wasm, memory, domRows };
  } finally {
    await context.close();
  }
}

/** `load` is missing when the budget ran out; `end` and `shown` are then of the part shown. */
type PlainText = { paint?: number; lines: number; load?: number; end: number; memory: number; shown: number };

/** The peer: the same lines as text/plain, which Chromium parses into one `<pre>`. It is loaded
 * at its load event, and at its end when the last line is inside the viewport. Chromium slows
 * down as that text grows, and its memory with it (on 2 cores a million lines had not loaded in
 * ten minutes, and the renderer passed 7 GB within three), so it gets `budget` ms; past that,
 * loading is stopped, and the share of the text shown is reported. */
async function measurePlainText(browser: Browser, url: string, budget: number, chars: number): Promise<PlainText> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.addInitScript(install, { watch: { lines: "pre" }, limit: LIMIT_MS });
    const loaded = await page.goto(url, { waitUntil: "load", timeout: budget }).then(
      () => true,
      (e: Error) => {
        if (e instanceof errors.TimeoutError) return false;
        throw e;
      },
    );
    const memory = await rendererMemory(browser);
    if (!loaded) await (await context.newCDPSession(page)).send("Page.stopLoading");
    const { lines } = await marks(page, ["lines"]);
    const { load, shown } = await page.evaluate(() => ({
      load: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).loadEventStart,
      shown: [...(document.querySelector("pre")?.childNodes ?? [])].reduce((sum, node) => sum + (node instanceof Text ? node.length : 0), 0),
    }));
    const end = await page.evaluate(() => {
      const doc = document.scrollingElement!;
      const text = document.querySelector("pre")?.lastChild;
      // The last character that is not a newline: on screen once the last line is.
      const at = text instanceof Text ? text.data.trimEnd().length - 1 : -1;
      const start = performance.now();
      doc.scrollTop = doc.scrollHeight;
      return window.probe.until(start, () => {
        if (!(text instanceof Text) || at < 0) return false;
        const range = document.createRange();
        range.setStart(text, at);
        range.setEnd(text, at + 1);
        const r = range.getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight;
      });
    });
    return { paint: await firstPaint(page), lines, load: loaded ? load : undefined, end, memory, shown: shown / chars };
  } finally {
    await context.close();
  }
}

/** A figure, or a bound when the peer ran out of its budget: `{ over: n }` is "more than n". */
type Figure = number | { over: number } | undefined;

/** One table: figures in their unit, and the ratio viewer / plain text where both have one. */
function table(title: string, rows: [string, number | undefined, Figure, "ms" | "MB" | ""][], notes: string[]) {
  const figure = (v: Figure, unit: string) => {
    if (v === undefined || (typeof v === "number" && Number.isNaN(v))) return "—";
    if (typeof v === "object") return `> ${figure(v.over, unit)}`;
    if (unit === "MB") return `${(v / 1e6).toLocaleString("en-US", { maximumFractionDigits: 1 })} MB`;
    return `${Math.round(v).toLocaleString("en-US")}${unit ? ` ${unit}` : ""}`;
  };
  const ratio = (a: number | undefined, b: Figure): string => {
    if (a === undefined || b === undefined) return "";
    if (typeof b === "object") return `< ${ratio(a, b.over)}`;
    return b ? `${(a / b).toPrecision(2)}×` : "";
  };
  const cells = rows.map(([what, viewer, text, unit]) => [what, figure(viewer, unit), figure(text, unit), ratio(viewer, text)]);
  const header = ["", "viewer", "plain text", "viewer / text"];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join("   ");
  console.log(["", title, line(header), ...cells.map(line), ...notes, ""].join("\n"));
}

let proxy: LogProxy;
let base: string;
let job: string;
/** The text the peer shows, in lines and characters (all ASCII, so bytes too). */
let [lines, chars] = [0, 0];

test.beforeAll(async ({ request }) => {
  const list = (await (await request.get("/api/v1/jobs?state=COMPLETED,FAILED")).json()).jobs as { namespace: string; name: string }[];
  expect(list.length, "a finished job").toBeGreaterThan(0);
  job = `${list[0].namespace}/${list[0].name}`;
  proxy = new LogProxy(test.info().project.use.baseURL!);
  proxy.plan = { count: EVENTS };
  base = await proxy.start();
  for (let n = 0; n < EVENTS; n++) {
    const line = textLine(event(n));
    lines += line.split("\n").length - 1;
    chars += line.length;
  }
});

test.afterAll(async () => {
  await proxy?.stop();
});

test("the log viewer with 1,000,000 lines, beside Chromium's plain text", async ({ browser }) => {
  const viewer = await measureViewer(browser, base, job);
  // Twice the viewer's load time, so a peer within a factor of two is measured in full.
  const budget = Math.min(60_000, Math.max(20_000, 2 * viewer.complete));
  const notes: string[] = [];
  const text = await measurePlainText(browser, `${base}/api/v1/jobs/${job}/logs?format=text`, budget, chars).catch((e: Error) => {
    notes.push(`Plain text not measured: ${e.message.split("\n")[0]}`);
    return undefined;
  });
  const unloaded = text !== undefined && text.load === undefined;
  if (unloaded) {
    notes.push(`Plain text had not loaded after ${Math.round(budget / 1000)} s (its budget: twice the viewer's load, 20 to 60 s);`);
    notes.push(`it showed ${(100 * text.shown).toFixed(0)}% of the text; loading was stopped, then scrolling to the end of that part took ${Math.round(text.end)} ms.`);
  }
  table(
    `Log viewer: ${EVENTS.toLocaleString("en-US")} events (${lines.toLocaleString("en-US")} lines, ${(chars / 1e6).toFixed(0)} MB as text), Chromium ${browser.version()}`,
    [
      ["first contentful paint", viewer.paint, text?.paint, "ms"],
      ["first log lines on screen", viewer.rows, text?.lines, "ms"],
      ["all lines loaded (viewer complete / load event)", viewer.complete, unloaded ? { over: budget } : text?.load, "ms"],
      [`scroll to the end (${LAST} / last line in view)`, viewer.end, unloaded ? undefined : text?.end, "ms"],
      [`search "${NEEDLE}" over all lines, count shown`, viewer.search, undefined, "ms"],
      ["level filter (ERROR) shown", viewer.filter, undefined, "ms"],
      ["JS heap used after load (after GC)", viewer.heap, undefined, "MB"],
      ["WebAssembly memory after load", viewer.wasm, undefined, "MB"],
      ["renderer resident memory after load", viewer.memory, unloaded ? { over: text.memory } : text?.memory, "MB"],
      ["log rows in the DOM", viewer.domRows, undefined, ""],
    ],
    [...notes, "Load figures count from navigation start, the others from the action; each ends at the animation frame after the result is in the page."],
  );
});
