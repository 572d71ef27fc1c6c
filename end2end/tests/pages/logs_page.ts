// Page object for `/jobs/{namespace}/{name}/logs`, the merged log viewer.
import { expect, type Locator, type Page } from "@playwright/test";

export class LogsPage {
  readonly root: Locator;
  readonly list: Locator;
  /** Rows in the DOM: the virtual window, not the whole log. */
  readonly rows: Locator;
  readonly status: Locator;
  readonly search: Locator;
  readonly searchCount: Locator;
  readonly exceptions: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId("logs");
    this.list = page.getByTestId("log-list");
    this.rows = page.getByTestId("log-row");
    this.status = page.getByTestId("log-status");
    this.search = page.getByTestId("search");
    this.searchCount = page.getByTestId("search-count");
    this.exceptions = page.getByTestId("exception");
  }

  async open(id: string, query = "", base = "") {
    await this.page.goto(`${base}/jobs/${id}/logs${query ? `?${query}` : ""}`);
    await expect(this.root).toBeVisible();
  }

  /** Waits until the whole log has arrived (a finished job's). */
  async waitComplete(timeout = 30_000) {
    await expect(this.status).toHaveAttribute("data-state", /complete|paused/, { timeout });
  }

  /** How many events the page holds, from its status line. */
  async eventCount(): Promise<number> {
    const text = (await this.status.textContent()) ?? "";
    return Number(text.split(" events")[0].replaceAll(",", ""));
  }

  row(id: string): Locator {
    return this.page.locator(`[data-testid=log-row][data-id="${id}"]`);
  }

  /** A row attribute over the rows in the DOM, top to bottom. */
  async column(attribute: "data-source" | "data-level" | "data-id" | "data-event"): Promise<string[]> {
    return this.rows.evaluateAll((rows, a) => rows.map((row) => row.getAttribute(a) ?? ""), attribute);
  }

  level(name: string): Locator {
    return this.page.locator(`[data-testid=level][data-level=${name}]`);
  }

  source(label: string): Locator {
    return this.page.locator(`[data-testid=source][data-source="${label}"]`);
  }

  /** The query parameters of the page's address, as the page keeps them. */
  params(): URLSearchParams {
    return new URL(this.page.url()).searchParams;
  }

  /** Scrolls the list to a fraction of its height (0 top, 1 bottom). */
  async scrollTo(fraction: number) {
    await this.list.evaluate(async (el, f) => {
      el.scrollTop = (el.scrollHeight - el.clientHeight) * f;
      // The window redraws on the scroll event; wait until it has.
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    }, fraction);
  }

  /** The id of the `n`th row wholly inside the list's visible area (the DOM also holds rows
   * drawn ahead, above and below it). */
  async idInView(n: number): Promise<string> {
    const ids = await this.list.evaluate((list) => {
      const view = list.getBoundingClientRect();
      return [...list.querySelectorAll("[data-testid=log-row]")]
        .filter((row) => {
          const box = row.getBoundingClientRect();
          return box.top >= view.top && box.bottom <= view.bottom;
        })
        .map((row) => row.getAttribute("data-id") ?? "");
    });
    expect(ids.length, "rows in view").toBeGreaterThan(n);
    return ids[n];
  }

  /** Whether a row is inside the list's visible area. */
  async inView(row: Locator): Promise<boolean> {
    const [box, list] = [await row.boundingBox(), await this.list.boundingBox()];
    return !!box && !!list && box.y + box.height > list.y && box.y < list.y + list.height;
  }
}
