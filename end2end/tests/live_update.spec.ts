// An on-call engineer keeps the page open: state changes arrive without a reload.
import { expect, test } from "./fixtures";
import { JobsPage } from "./pages/jobs_page";

test("a state change in the cluster reaches the open page without a reload", async ({ page }) => {
  const jobs = new JobsPage(page);
  await jobs.open();
  await jobs.waitLive();
  const before = await jobs.states();
  // A reload would drop this marker; it must survive until the change is seen.
  await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });

  await expect
    .poll(
      async () => {
        const now = await jobs.states();
        return [...now].some(([id, state]) => before.has(id) && before.get(id) !== state) ||
          [...now.keys()].some((id) => !before.has(id));
      },
      { timeout: 45_000, intervals: [250] },
    )
    .toBe(true);

  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
  expect(navigations).toBe(0);
});

test("a running job's duration ticks on the open page", async ({ page }) => {
  const jobs = new JobsPage(page);
  await jobs.open();
  await jobs.waitLive();
  const running = page.locator('tr[data-state="RUNNING"] [data-testid="duration"]');
  await expect(running.first()).toBeVisible();
  const before = await running.allTextContents();
  await expect
    .poll(async () => {
      const now = await running.allTextContents();
      return now.some((text, i) => before[i] !== undefined && text !== before[i]);
    }, { timeout: 10_000 })
    .toBe(true);
});
