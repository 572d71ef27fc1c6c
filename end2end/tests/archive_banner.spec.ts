// When the job archive cannot be used, the list says so and still shows the live jobs.
import { expect, test } from "./fixtures";

// playwright.config.ts starts this second dashboard, whose archive path runs through a file.
const broken = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3107) + 1}`;

test("an unusable archive shows a banner above the live jobs", async ({ page }) => {
  await page.goto(`${broken}/`);
  await expect(page.getByTestId("warning")).toContainText("The job archive cannot be read");
  await expect(page.getByTestId("warning")).toContainText("not-a-directory");
  await expect(page.locator("tr[data-job]").first()).toBeVisible();
});
