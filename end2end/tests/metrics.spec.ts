// A user asks of a job's metrics page: did it run out of memory, which container, how close to
// the limit; what did the containers use over time; which executor stood out. The main demo
// plays three times faster than the clock and samples metrics-server; the Spark demo plays in
// real time with a real Prometheus scraping its cluster, and real Spark drivers.
import { expect, test, type APIRequestContext } from "./fixtures";
import { realDriverJob, sparkDemo as spark } from "./pages/spark_demo";

type Job = { namespace: string; name: string; state: string; executors: { oom_killed: number } };
type Pod = { name: string; role: string; reason: string | null; exit_code: number | null };

async function jobs(request: APIRequestContext, query: string, base = ""): Promise<Job[]> {
  return (await (await request.get(`${base}/api/v1/jobs?${query}&limit=200`)).json()).jobs as Job[];
}

test("an OOM-killed executor is named on its job's metrics page, with its limit", async ({ page, request }) => {
  let job: Job | undefined;
  await expect
    .poll(async () => (job = (await jobs(request, "state=COMPLETED,FAILED")).find((j) => j.executors.oom_killed > 0)), {
      message: "a finished job with an OOM-killed executor",
      timeout: 120_000,
      intervals: [2_000],
    })
    .toBeTruthy();
  const detail = await (await request.get(`/api/v1/jobs/${job!.namespace}/${job!.name}`)).json();
  const killed = (detail.pods as Pod[]).find((p) => p.role === "executor" && (p.reason === "OOMKilled" || p.exit_code === 137))!;
  expect(killed, "the killed executor among the pods").toBeTruthy();
  await page.goto(`/jobs/${job!.namespace}/${job!.name}`);
  await page.getByTestId("metrics-link").click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${job!.namespace}/${job!.name}/metrics$`));
  const kill = page.locator(`[data-testid=oom-kill][data-pod="${killed.name}"]`);
  await expect(kill).toContainText("killed for memory");
  await expect(kill).toContainText(/limit \d+(\.\d)? (MiB|GiB)/);
  // Requests and limits come from the pods whatever the source, so the page says where the rest
  // comes from rather than drawing nothing silently.
  await expect(page.getByTestId("metrics-source")).toContainText("metrics-server");
  // No driver to ask Spark's numbers of (the demo's drivers are simulated, and it has no History
  // Server): said in that panel, the charts' panels untouched.
  await expect(page.getByTestId("executors").getByTestId("panel-error")).toContainText("no running driver");
  await expect(page.getByTestId("chart-memory").getByTestId("panel-error")).toHaveCount(0);
});

test("an OOM kill is marked on the memory chart drawn from Prometheus' history", async ({ page, request }) => {
  test.setTimeout(300_000);
  let job: Job | undefined;
  await expect
    .poll(async () => (job = (await jobs(request, "state=FAILED,COMPLETED", spark)).find((j) => j.executors.oom_killed > 0)), {
      message: "a finished job with an OOM-killed executor on the real-time demo",
      timeout: 240_000,
      intervals: [3_000],
    })
    .toBeTruthy();
  await page.goto(`${spark}/jobs/${job!.namespace}/${job!.name}/metrics`);
  await expect(page.getByTestId("metrics-source")).toHaveAttribute("data-source", "Prometheus");
  const memory = page.getByTestId("chart-memory").getByTestId("plot");
  await expect(memory).toHaveAttribute("data-lines", /OOM kill/, { timeout: 30_000 });
  await expect(memory).toHaveAttribute("data-lines", /exec-\d+/);
  // The cross is drawn: the one line with markers is "OOM kill" (chartistry draws a marker as a
  // path in its line's marker group).
  await expect(memory.locator("svg g._chartistry_line_markers path").first()).toBeVisible();
  await expect(page.getByTestId("oom-kill").first()).toContainText("killed for memory");
});

test("Spark's own executor metrics come live from a real driver: a table sorted by a click, linked to the log", async ({ page }) => {
  test.setTimeout(240_000);
  const path = await realDriverJob(page);
  await page.goto(`${spark}${path}/metrics`);
  const table = page.getByTestId("executors");
  await expect(table).toHaveAttribute("data-from", "driver", { timeout: 30_000 });
  const driver = table.locator("[data-testid=executor-row][data-executor=driver]");
  await expect(driver.locator("[data-col=heap]")).toHaveText(/\d (B|KiB|MiB|GiB)/);
  await expect(driver.getByRole("link")).toHaveAttribute("href", `${path}/logs?source=driver`);
  // A process-tree metric Spark does not measure here is named, not shown as zero.
  await expect(table.getByTestId("executors-not-measured")).toContainText("processTreeMetrics");
  await table.getByTestId("sort-heap").click();
  await expect(table.getByTestId("sort-heap")).toContainText("↓");
  await table.getByTestId("sort-heap").click();
  await expect(table.getByTestId("sort-heap")).toContainText("↑");
  await expect(driver).toBeVisible();
});

test("a running job's charts fill as samples arrive, hover shows values with units, the range is asked of the server", async ({ page, request }) => {
  test.setTimeout(180_000);
  let job: Job | undefined;
  await expect
    .poll(async () => (job = (await jobs(request, "state=RUNNING", spark))[0]), { message: "a running job", timeout: 120_000, intervals: [2_000] })
    .toBeTruthy();
  await page.goto(`${spark}/jobs/${job!.namespace}/${job!.name}/metrics`);
  const memory = page.getByTestId("chart-memory").getByTestId("plot");
  await expect(memory).toBeVisible({ timeout: 60_000 });
  await expect(memory).toHaveAttribute("data-lines", /driver/);
  await expect(memory).toHaveAttribute("data-lines", /limit/);
  await expect(page.getByTestId("chart-cpu").getByTestId("plot")).toBeVisible();
  await expect(page.getByTestId("chart-executors").getByTestId("plot")).toBeVisible();
  // Hovering the memory chart shows the values at that time, in bytes' units.
  const svg = memory.locator("svg").first();
  const box = (await svg.boundingBox())!;
  await expect(async () => {
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 3);
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 3, { steps: 5 });
    await expect(page.locator("._chartistry_tooltip").first()).toContainText(/\d (B|KiB|MiB|GiB)/, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  // A shorter range is asked of the server and kept in the address.
  const asked = page.waitForRequest(/\/metrics\?summarise=8&from=15m$/);
  await page.getByTestId("range").selectOption("15m");
  await asked;
  await expect(page).toHaveURL(/\/metrics\?range=15m$/);
  await page.reload();
  await expect(page.getByTestId("range")).toHaveValue("15m");
  await expect(memory).toBeVisible();
});

test("an unknown job's metrics page is a 404 that says so", async ({ page }) => {
  const response = await page.goto("/jobs/ml/not-a-job/metrics");
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId("no-job")).toContainText("ml/not-a-job");
});
