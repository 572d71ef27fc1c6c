// A data scientist opens the dashboard and sees every job of the simulated cluster.
import { expect, test } from "./fixtures";
import { JobsPage } from "./pages/jobs_page";

test("the jobs page lists the jobs the API knows", async ({ page, request }) => {
  const jobs = new JobsPage(page);
  await jobs.open();
  const api = await (await request.get("/api/v1/jobs")).json();
  expect(api.total).toBeGreaterThanOrEqual(15);
  // Every job the API had is on the page, or has changed since (then the row says so live).
  await expect.poll(async () => (await jobs.states()).size).toBeGreaterThanOrEqual(15);
  const shown = await jobs.states();
  const known = api.jobs.filter((j: { namespace: string; name: string }) => shown.has(`${j.namespace}/${j.name}`));
  expect(known.length).toBeGreaterThanOrEqual(api.total - 3);
  await expect(page.locator("th", { hasText: "Executors" })).toBeVisible();
  await expect(page.locator("[data-count=RUNNING]")).toBeVisible();
});

test("an unknown URL gets a 404 page that says what was asked for", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByText("/no/such/page")).toBeVisible();
});
