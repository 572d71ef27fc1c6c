// The log viewer against synthetic logs served in front of the demo (see `pages/log_proxy.ts`):
// a million lines, ANSI colours, markers, a server that refuses, a stream that breaks off.
import { expect, test } from "./fixtures";
import { LogProxy } from "./pages/log_proxy";
import { LogsPage } from "./pages/logs_page";

type Job = { namespace: string; name: string; state: string };

let proxy: LogProxy;
let base: string;
let job: string;

test.beforeAll(async ({ request }) => {
  const list = (await (await request.get("/api/v1/jobs?state=COMPLETED,FAILED")).json()).jobs as Job[];
  expect(list.length, "a finished job").toBeGreaterThan(0);
  job = `${list[0].namespace}/${list[0].name}`;
  proxy = new LogProxy(test.info().project.use.baseURL!);
  base = await proxy.start();
});

test.afterAll(async () => {
  await proxy.stop();
});

test("a million lines load, scroll and search without a million rows in the page", async ({ page }) => {
  test.setTimeout(180_000);
  proxy.plan = { count: 1_000_000 };
  const logs = new LogsPage(page);
  await logs.open(job, "", base);
  await expect(logs.status).toHaveAttribute("data-state", "complete", { timeout: 120_000 });
  expect(await logs.eventCount()).toBe(1_000_000);
  // Only the window is in the DOM.
  expect(await logs.rows.count()).toBeLessThan(300);
  await logs.scrollTo(1);
  await expect(logs.row("e999999")).toBeVisible();
  expect(await logs.rows.count()).toBeLessThan(300);
  await logs.scrollTo(0.5);
  const middle = Number((await logs.column("data-event"))[0]);
  expect(middle).toBeGreaterThan(300_000);
  expect(middle).toBeLessThan(700_000);
  // Search over everything, then straight to a hit near the end.
  await logs.search.fill("line 999998");
  await logs.search.press("Enter");
  await expect(logs.searchCount).toHaveText("1 of 1", { timeout: 60_000 });
  await expect(logs.row("e999998").locator("mark")).toHaveText("line 999998");
  // Filters over a million events are instant.
  await logs.level("ERROR").click();
  await expect(logs.status).toContainText("shown");
  await expect(logs.rows.first()).toHaveAttribute("data-level", /ERROR|MARKER/);
});

test("colours, markers and markup: styled text, never HTML", async ({ page }) => {
  proxy.plan = { count: 50 };
  const logs = new LogsPage(page);
  await logs.open(job, "", base);
  await logs.waitComplete();
  const coloured = logs.row("e7");
  await expect(coloured).toContainText("stage 0 FAILED retrying");
  await expect(coloured.locator("span.text-green-700")).toHaveText("stage 0 ");
  await expect(coloured.locator("span.font-bold.text-red-700")).toHaveText("FAILED");
  const marker = logs.row("e9");
  await expect(marker).toHaveAttribute("data-level", "MARKER");
  await expect(marker).toContainText("was deleted");
  await expect(page.getByTestId("first-marker")).toContainText("1 source problem");
  // Markers stay when levels are filtered.
  await logs.level("WARN").click();
  expect(await logs.column("data-id")).toEqual(["e5", "e9"]);
});

test("stack traces fold and unfold; a regular expression searches in the browser", async ({ page }) => {
  proxy.plan = { count: 50 };
  const logs = new LogsPage(page);
  await logs.open(job, "", base);
  await logs.waitComplete();
  const trace = logs.row("e11");
  await expect(trace).toContainText("at com.example.etl.Orders");
  await trace.getByTestId("fold").click();
  await expect(trace).not.toContainText("at com.example.etl.Orders");
  await trace.getByTestId("more-lines").click();
  await expect(trace).toContainText("at com.example.etl.Orders");
  await page.getByTestId("expand-all").click();
  await expect(trace.getByTestId("more-lines")).toHaveText("+5 lines");
  await page.getByTestId("search-regex").click();
  await logs.search.fill("task \\d+\\.0 in stage 0\\.0 \\(TID [12]\\d\\)");
  await expect(logs.searchCount).toHaveText("18 matches");
  await expect(logs.row("e21").locator("mark")).toHaveText("task 21.0 in stage 0.0 (TID 21)");
  expect(logs.params().get("re")).toBe("task \\d+\\.0 in stage 0\\.0 \\(TID [12]\\d\\)");
  // A match inside folded lines unfolds its event when stepped to.
  await logs.search.fill("Orders\\.scala:88");
  await expect(logs.searchCount).toHaveText("1 match");
  await logs.search.press("Enter");
  await expect(trace.locator("mark")).toHaveText("Orders.scala:88");
});

test("the time span is asked of the server", async ({ page }) => {
  proxy.plan = { count: 30 };
  const logs = new LogsPage(page);
  await logs.open(job, "", base);
  await logs.waitComplete();
  await page.getByTestId("span").selectOption("1h");
  await expect(page).toHaveURL(/since=1h/);
  await logs.waitComplete();
  expect(proxy.requests.at(-1)).toContain("since=1h");
  await expect(page.getByTestId("span")).toHaveValue("1h");
});

test("a server that refuses the query, or knows no log, says so", async ({ page }) => {
  const logs = new LogsPage(page);
  proxy.plan = { count: 0, status: 400, body: "bad regex: unclosed group" };
  await logs.open(job, "", base);
  await expect(page.getByTestId("log-error")).toContainText("refused");
  await expect(page.getByTestId("log-error")).toContainText("bad regex: unclosed group");
  proxy.plan = { count: 0, status: 404, body: "no log for this job" };
  await logs.open(job, "", base);
  await expect(page.getByTestId("log-error")).toContainText("There is no log for this job.");
  // Trying again after the server recovers loads the log.
  proxy.plan = { count: 20 };
  await page.getByTestId("log-error").getByRole("button", { name: "Try again" }).click();
  await logs.waitComplete();
  expect(await logs.eventCount()).toBe(20);
});

test("a stream that breaks off keeps what arrived, says so and resumes", async ({ page }) => {
  let seen!: () => void;
  proxy.plan = { count: 2000, breakAfter: 1500, breakWhen: new Promise((resolve) => (seen = resolve)) };
  const logs = new LogsPage(page);
  await logs.open(job, "", base);
  await expect.poll(() => logs.eventCount()).toBe(1500);
  await expect(logs.status).toHaveAttribute("data-state", "loading");
  seen();
  await expect(page.getByTestId("log-interrupted")).toContainText("ended unexpectedly");
  expect(await logs.eventCount()).toBe(1500);
  proxy.plan = { count: 2000 };
  await page.getByTestId("log-interrupted").getByRole("button", { name: "Resume" }).click();
  await logs.waitComplete();
  // The resumed request starts before the newest event; what was seen is not doubled.
  expect(await logs.eventCount()).toBe(2000);
  expect(proxy.requests.at(-1)).toContain("since=");
});

test("wrapping and local time are remembered; the download carries the filters", async ({ page }) => {
  proxy.plan = { count: 100 };
  const logs = new LogsPage(page);
  await logs.open(job, "level=WARN", base);
  await logs.waitComplete();
  await expect(page.getByTestId("download")).toHaveAttribute("href", /\/logs\?level=WARN&format=text$/);
  const time = logs.rows.first().getByTestId("permalink");
  await expect(time).toHaveText(/^2026-11-21 05:00:00\.\d{3}$/);
  await page.getByTestId("timezone").click();
  await expect(page.getByTestId("timezone")).toContainText("local");
  await page.getByTestId("wrap").click();
  await expect(page.getByTestId("wrap")).toHaveAttribute("aria-pressed", "true");
  await page.reload();
  await logs.waitComplete();
  await expect(page.getByTestId("wrap")).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("timezone")).toContainText("local");
});
