// Page object for `/`, the jobs list.
import { expect, type Locator, type Page } from "@playwright/test";

export class JobsPage {
  readonly rows: Locator;
  readonly liveStatus: Locator;

  constructor(readonly page: Page) {
    this.rows = page.locator("tr[data-job]");
    this.liveStatus = page.getByTestId("live-status");
  }

  async open(query = "") {
    await this.page.goto(query ? `/?${query}` : "/");
    await expect(this.rows.first()).toBeVisible();
  }

  /** The URL's query parameters, as the page has them now. */
  params(): URLSearchParams {
    return new URL(this.page.url()).searchParams;
  }

  /** A column of the table, top to bottom, by a row attribute or a cell's test id. */
  async column(attribute: "data-job" | "data-state" | "data-deleted"): Promise<string[]> {
    return this.rows.evaluateAll((rows, a) => rows.map((row) => row.getAttribute(a) ?? ""), attribute);
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
