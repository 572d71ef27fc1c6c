// A data scientist opens the Spark UI of a running job from sparkboard: a real Spark driver's
// UI, through the dashboard's proxy, by job id. Every page renders, and every request the
// browser makes stays under the job's prefix.
import { expect, test, type Page } from "./fixtures";
import { realDriverJob, sparkDemo } from "./pages/spark_demo";

const base = sparkDemo;

/** The prefix of a running job whose driver is a real Spark driver. */
async function realDriverPrefix(page: Page): Promise<string> {
  return `${await realDriverJob(page)}/ui`;
}

test("the Spark UI of a running job renders through the proxy, every request under its prefix", async ({ page }) => {
  test.setTimeout(240_000);
  const prefix = await realDriverPrefix(page);
  const outside: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith("http") && (url.origin !== base || !url.pathname.startsWith(`${prefix}/`))) {
      outside.push(request.url());
    }
  });

  // A driver that has just started may not have submitted a job yet: load again until one shows.
  await expect(async () => {
    await page.goto(`${base}${prefix}/`);
    await expect(page).toHaveURL(`${base}${prefix}/jobs/`);
    await expect(page.getByRole("heading", { name: /Spark Jobs/ })).toBeVisible();
    await expect(page.getByText(/(Active|Completed) Jobs:/).first()).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 90_000, intervals: [2_000] });

  await expect(async () => {
    await page.goto(`${base}${prefix}/stages/`);
    await expect(page.getByText(/(Active|Completed) Stages:/).first()).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000, intervals: [2_000] });
  await page.goto(`${base}${prefix}/stages/stage/?id=0&attempt=0`);
  // The task table is filled by the page's JavaScript from the REST API (server-side paging).
  await expect(page.locator("#active-tasks-table tbody tr").first()).toBeVisible({ timeout: 30_000 });

  await page.goto(`${base}${prefix}/executors/`);
  await expect(page.locator("#active-executors-table")).toContainText("driver", { timeout: 30_000 });

  await page.goto(`${base}${prefix}/environment/`);
  await expect(page.getByText("spark.driver.host").first()).toBeVisible();

  // The SQL page is rendered once by the driver: a driver still in its first round has no query
  // yet, so the page is loaded again until one shows (on a loaded machine that takes a while).
  await expect(async () => {
    await page.goto(`${base}${prefix}/SQL/`);
    await expect(page.getByRole("heading", { name: "SQL / DataFrame" })).toBeVisible();
    await expect(page.getByText(/(Running|Completed) Queries:/).first()).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 90_000, intervals: [2_000] });

  expect(outside, "requests that left the job's prefix").toEqual([]);
});
