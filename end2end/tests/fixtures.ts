// The tests' `test`: Playwright's, plus a check that the dashboard's own code did not panic or
// throw in the page. A panic in the browser leaves a page that looks right but no longer
// reacts, and the test would fail later with a confusing message (or pass by luck); this says
// what happened, with the panic's message. Errors of other pages (Spark's own UI through the
// proxy) are not ours to judge.
import { test as base } from "@playwright/test";

export { expect, type APIRequestContext, type Page } from "@playwright/test";

export const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" && message.text().includes("panicked at")) errors.push(message.text());
      });
      page.on("pageerror", (error) => {
        if ((error.stack ?? "").includes("/pkg/")) errors.push(error.stack ?? error.message);
      });
      await use();
      if (errors.length > 0) throw new Error(`the dashboard's code failed in the page:\n${errors.join("\n")}`);
    },
    { auto: true },
  ],
});
