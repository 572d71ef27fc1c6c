// An engineer reads a job's merged log: driver, executors and controller in one time-ordered
// list, filtered, searched, linked line by line, its exceptions grouped, followed while it runs.
import { expect, test, type APIRequestContext } from "./fixtures";
import { LogsPage } from "./pages/logs_page";

// A fresh demo needs a little while before a finished job's log has settled (finishedJob).
test.describe.configure({ timeout: 180_000 });

type Job = {
  namespace: string;
  name: string;
  state: string;
  started_at: string | null;
  finished_at: string | null;
  app_id: string | null;
};
type Event = { id: string; level: string; text: string; source: { role: string } };

async function jobs(request: APIRequestContext, state: string): Promise<Job[]> {
  return (await (await request.get(`/api/v1/jobs?${state ? `state=${state}&` : ""}limit=1000`)).json()).jobs as Job[];
}

async function events(request: APIRequestContext, job: Job, query = ""): Promise<Event[]> {
  const body = await (await request.get(`/api/v1/jobs/${job.namespace}/${job.name}/logs${query ? `?${query}` : ""}`)).text();
  return body.split("\n").filter((l) => l).map((l) => JSON.parse(l) as Event);
}

/**
 * A finished job whose log has driver and executor lines, and has settled: Spark deletes its
 * executors as it ends, and their last lines come from the archive once the demo's shipper has
 * uploaded them (every 5 s). The most recently finished such job: the demo's clock runs three
 * times faster than ours, so "30 s ago" is counted on its clock (the latest time any job shows),
 * and an old job's Kubernetes events expire (the API server's one-hour TTL, on the demo's clock)
 * and leave its log while a test reads it.
 */
async function finishedJob(request: APIRequestContext): Promise<Job> {
  let found: Job | undefined;
  await expect
    .poll(
      async () => {
        const all = await jobs(request, "");
        const times = all.flatMap((j) => [j.started_at, j.finished_at]).filter((t): t is string => t !== null).map(Date.parse);
        const clusterNow = Math.max(Date.now(), ...times);
        const finished = all
          .filter((j) => ["COMPLETED", "FAILED"].includes(j.state) && j.finished_at !== null)
          .filter((j) => clusterNow - Date.parse(j.finished_at!) >= 30_000)
          .sort((a, b) => Date.parse(b.finished_at!) - Date.parse(a.finished_at!));
        for (const job of finished) {
          const roles = new Set((await events(request, job)).map((e) => e.source.role));
          if (roles.has("driver") && roles.has("executor")) {
            found = job;
            return true;
          }
        }
        return false;
      },
      { message: "a settled finished job with driver and executor lines", timeout: 120_000, intervals: [2_000] },
    )
    .toBe(true);
  return found!;
}

/** A failed job whose driver log holds a stack trace matching `pattern`. */
async function failedJobWith(request: APIRequestContext, pattern: RegExp): Promise<Job> {
  for (const job of await jobs(request, "FAILED")) {
    if ((await events(request, job, "level=ERROR,FATAL,UNKNOWN")).some((e) => pattern.test(e.text))) return job;
  }
  throw new Error(`no failed job with ${pattern}`);
}

test("the job page links to the merged log of driver and executors", async ({ page, request }) => {
  const job = await finishedJob(request);
  await page.goto(`/jobs/${job.namespace}/${job.name}`);
  await page.getByTestId("logs-link").click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${job.namespace}/${job.name}/logs$`));
  const logs = new LogsPage(page);
  await logs.waitComplete();
  const expected = (await events(request, job)).length;
  expect(await logs.eventCount()).toBe(expected);
  await expect(logs.rows.first()).toBeVisible();
  await expect(logs.source("driver")).toBeVisible();
  await expect(page.locator("[data-testid=source][data-source^=exec-]").first()).toBeVisible();
  // The first rows are the log's first events, in order.
  const first = (await events(request, job)).slice(0, 5).map((e) => e.id);
  expect((await logs.column("data-id")).slice(0, 5)).toEqual(first);
  // The download is the same log as text, under the same filters.
  const download = await page.getByTestId("download").getAttribute("href");
  const text = await (await request.get(download!)).text();
  expect(text.split("\n").filter((l) => l).length).toBeGreaterThanOrEqual(expected);
});

test("source and level filters narrow the rows at once and live in the address", async ({ page, request }) => {
  const job = await finishedJob(request);
  const logs = new LogsPage(page);
  await logs.open(`${job.namespace}/${job.name}`);
  await logs.waitComplete();
  const all = await logs.eventCount();
  await logs.source("driver").hover();
  await logs.source("driver").getByRole("button", { name: "Show only driver" }).click();
  await expect.poll(() => logs.column("data-source")).toEqual(expect.arrayContaining(["driver"]));
  expect(new Set(await logs.column("data-source"))).toEqual(new Set(["driver"]));
  expect(logs.params().get("source")).toBe("driver");
  await expect(logs.status).toContainText("shown");
  // A shared link opens the same view.
  await page.reload();
  await logs.waitComplete();
  expect(new Set(await logs.column("data-source"))).toEqual(new Set(["driver"]));
  await expect(logs.source("driver").locator("input")).toBeChecked();
  await expect(page.locator("[data-testid=source][data-source^=exec-] input").first()).not.toBeChecked();
  // Levels: one click shows only that level (markers always stay).
  await logs.level("INFO").click();
  expect(logs.params().get("level")).toBe("INFO");
  for (const level of await logs.column("data-level")) expect(["INFO", "MARKER"]).toContain(level);
  await page.getByTestId("clear-filters").click();
  await expect(logs.status).not.toContainText("shown");
  expect(await logs.eventCount()).toBe(all);
  expect(logs.params().get("source")).toBeNull();
});

test("search marks every match and steps through them with Enter and Shift+Enter", async ({ page, request }) => {
  const job = await finishedJob(request);
  const logs = new LogsPage(page);
  await logs.open(`${job.namespace}/${job.name}`);
  await logs.waitComplete();
  await logs.search.fill("SparkContext");
  await expect(logs.searchCount).toHaveText(/^\d+ match/);
  const total = Number((await logs.searchCount.textContent())!.split(" ")[0]);
  expect(total).toBeGreaterThan(1);
  await expect(logs.rows.locator("mark").first()).toHaveText(/sparkcontext/i);
  await logs.search.press("Enter");
  await expect(logs.searchCount).toHaveText(`1 of ${total}`);
  const current = page.locator("[data-testid=log-row][data-current=true]");
  await expect(current.locator("mark").first()).toBeVisible();
  const firstId = await current.getAttribute("data-id");
  await logs.search.press("Enter");
  await expect(logs.searchCount).toHaveText(`2 of ${total}`);
  expect(await current.getAttribute("data-id")).not.toBe(firstId);
  await logs.search.press("Shift+Enter");
  await expect(logs.searchCount).toHaveText(`1 of ${total}`);
  await expect(current).toHaveAttribute("data-id", firstId!);
  expect(logs.params().get("q")).toBe("SparkContext");
  // Only matching lines: every row has a mark.
  await page.getByTestId("only-matching").check();
  await expect(logs.status).toContainText(`${total} shown`);
  for (const row of await logs.rows.all()) await expect(row.locator("mark").first()).toBeVisible();
  // A bad regular expression says why.
  await page.getByTestId("search-regex").click();
  await logs.search.fill("Spark(");
  await expect(page.getByTestId("search-error")).toContainText("Bad pattern");
});

test("Spark's executor log link opens the merged log of that executor", async ({ page, request }) => {
  const job = await finishedJob(request);
  expect(job.app_id, "the job's Spark application id").not.toBeNull();
  // What `spark.ui.custom.executor.log.url=<sparkboard>/apps/{{APP_ID}}/executors/{{EXECUTOR_ID}}/logs` gives.
  await page.goto(`/apps/${job.app_id}/executors/1/logs`);
  await expect(page).toHaveURL(new RegExp(`/jobs/${job.namespace}/${job.name}/logs\\?source=exec-1$`));
  const logs = new LogsPage(page);
  await logs.waitComplete();
  expect(new Set(await logs.column("data-source"))).toEqual(new Set(["exec-1"]));
  await expect(logs.source("exec-1").locator("input")).toBeChecked();
});

test("a permalink to a line survives a reload", async ({ page, request }) => {
  const job = await finishedJob(request);
  const logs = new LogsPage(page);
  await logs.open(`${job.namespace}/${job.name}`);
  await logs.waitComplete();
  await logs.scrollTo(0.7);
  const id = await logs.idInView(3);
  await logs.row(id).getByTestId("permalink").click();
  await expect(page).toHaveURL(new RegExp(`#L${id}$`));
  await expect(logs.row(id)).toHaveAttribute("data-selected", "true");
  await expect(page.getByTestId("linked-line")).toBeVisible();
  await page.reload();
  await logs.waitComplete();
  await expect(logs.row(id)).toHaveAttribute("data-selected", "true");
  expect(await logs.inView(logs.row(id))).toBe(true);
  // Filters that would hide the linked line give way to it.
  await page.goto(`/jobs/${job.namespace}/${job.name}/logs?level=FATAL#L${id}`);
  await logs.waitComplete();
  await expect(logs.row(id)).toHaveAttribute("data-selected", "true");
});

test("a failed job's exceptions panel groups Java stack traces and leads to the first", async ({ page, request }) => {
  const job = await failedJobWith(request, /\n\s*at [\w$./]+\(/);
  const logs = new LogsPage(page);
  await logs.open(`${job.namespace}/${job.name}`);
  await logs.waitComplete();
  const exception = logs.exceptions.first();
  await expect(exception).toBeVisible();
  const cls = (await exception.getAttribute("data-class"))!;
  expect(cls).toMatch(/^[\w$.]+\.[A-Z][\w$]*$/);
  await expect(exception).toContainText("at ");
  await exception.getByTestId("exception-first").click();
  const focused = page.locator("[data-testid=log-row].bg-sky-100");
  await expect(focused).toContainText(cls);
  expect(await logs.inView(focused)).toBe(true);
  // The first error is one click away too.
  await logs.scrollTo(0);
  await page.getByTestId("first-error").click();
  await expect(page.locator("[data-testid=log-row].bg-sky-100")).toHaveAttribute("data-level", /ERROR|FATAL/);
});

test("a failed PySpark job's traceback is grouped by its final exception", async ({ page, request }) => {
  const job = await failedJobWith(request, /Traceback \(most recent call last\)/);
  const logs = new LogsPage(page);
  await logs.open(`${job.namespace}/${job.name}`);
  await logs.waitComplete();
  const python = page.locator("[data-testid=exception]", { hasText: "Python" }).first();
  await expect(python).toBeVisible();
  await expect(python).toContainText("File \"");
  await python.getByTestId("exception-first").click();
  await expect(page.locator("[data-testid=log-row].bg-sky-100")).toContainText("Traceback (most recent call last)");
});

test("following a running job shows new lines as they arrive, at the bottom", async ({ page, request }) => {
  test.setTimeout(180_000);
  // A short list, so that a few lines already overflow it.
  await page.setViewportSize({ width: 1280, height: 560 });
  const logs = new LogsPage(page);
  // A job may finish before or while we watch: the first one still running whose log grows
  // will do (the list is asked again each time, since watching one takes a while).
  let grew = false;
  for (let attempt = 0; attempt < 4; attempt++) {
    const running = await jobs(request, "RUNNING");
    expect(running.length, "a running job").toBeGreaterThan(0);
    const job = running[attempt % running.length];
    await logs.open(`${job.namespace}/${job.name}`);
    await expect(logs.status).toHaveAttribute("data-state", /following|complete|paused/);
    // It ended between the list and the page: the page rightly does not follow it.
    if ((await logs.status.getAttribute("data-state")) !== "following") continue;
    await expect(page.getByTestId("follow")).toHaveAttribute("aria-pressed", "true");
    const overflowing = () => logs.list.evaluate((el) => el.scrollHeight > el.clientHeight + 100);
    await expect.poll(overflowing, { timeout: 20_000 }).toBe(true).catch(() => {});
    const before = await logs.eventCount();
    grew = await expect
      .poll(() => logs.eventCount(), { timeout: 20_000 })
      .toBeGreaterThan(before)
      .then(() => true, () => false);
    if (grew && (await overflowing())) break;
  }
  expect(grew, "a running job's log grew").toBe(true);
  // Stuck to the bottom: the newest line is in view.
  await expect
    .poll(() => logs.list.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 30), { timeout: 10_000 })
    .toBe(true);
  // Scrolling up pauses that; "jump to latest" resumes it.
  await logs.scrollTo(0);
  await expect(page.getByTestId("jump-latest")).toBeVisible({ timeout: 15_000 });
  await page.getByTestId("jump-latest").click();
  await expect.poll(() => logs.list.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 30)).toBe(true);
  // Follow off: the stream stops; on again: it resumes without doubling lines.
  await page.getByTestId("follow").click();
  await expect(logs.status).toHaveAttribute("data-state", /paused|complete/);
  await page.getByTestId("follow").click();
  await expect(logs.status).toHaveAttribute("data-state", "following");
  const ids = await logs.column("data-id");
  expect(new Set(ids).size).toBe(ids.length);
});

test("an unknown job is a 404 that says so", async ({ page }) => {
  const response = await page.goto("/jobs/ml/not-a-job/logs");
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId("no-job")).toContainText("ml/not-a-job");
});
