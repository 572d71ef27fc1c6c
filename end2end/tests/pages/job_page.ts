// Page object for `/jobs/{namespace}/{name}`, one job.
import { expect, type Locator, type Page } from "@playwright/test";

export class JobPage {
  readonly root: Locator;
  readonly pods: Locator;
  readonly events: Locator;
  readonly sparkConf: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId("job");
    this.pods = page.locator("[data-testid=pods] tr[data-pod]");
    this.events = page.locator("[data-testid=events] tr[data-reason]");
    this.sparkConf = page.getByTestId("spark-conf");
  }

  async open(id: string) {
    await this.page.goto(`/jobs/${id}`);
    await expect(this.root).toBeVisible();
  }
}
