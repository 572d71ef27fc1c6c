// Page object for `/`, the jobs list.
import { expect, type Locator, type Page } from "@playwright/test";

export class JobsPage {
  readonly rows: Locator;
  readonly liveStatus: Locator;

  constructor(readonly page: Page) {
    this.rows = page.locator("tr[data-job]");
    this.liveStatus = page.getByTestId("live-status");
  }

  async open() {
    await this.page.goto("/");
    await expect(this.rows.first()).toBeVisible();
  }

  /** Waits until the page is hydrated and its server push is connected. */
  async waitLive() {
    await expect(this.liveStatus).toHaveText("● live");
  }

  /** Every row's job id and state, as shown. */
  async states(): Promise<Map<string, string>> {
    const pairs = await this.rows.evaluateAll((rows) =>
      rows.map((row) => [row.getAttribute("data-job") ?? "", row.getAttribute("data-state") ?? ""]),
    );
    return new Map(pairs as [string, string][]);
  }
}
