// Someone looking for a job narrows the list; the view lives in the URL, so a reload, the back
// button and a shared link all show the same thing.
import { expect, test } from "./fixtures";
import { JobsPage } from "./pages/jobs_page";

test("state, namespace and search filters go into the URL and survive a reload", async ({ page }) => {
  const jobs = new JobsPage(page);
  // The chips come and go with live counts (a state's first job adds one): a chip that appears
  // as the pointer lands moves FAILED aside, so the click is tried again on a fresh page.
  await expect(async () => {
    await jobs.open();
    await jobs.waitLive();
    await page.locator("[data-count=FAILED]").click();
    await expect.poll(() => jobs.params().get("state"), { timeout: 5_000 }).toBe("FAILED");
  }).toPass({ timeout: 60_000 });
  await expect.poll(async () => new Set(await jobs.column("data-state"))).toEqual(new Set(["FAILED"]));
  // The total is the FAILED chip's count.
  const chip = (await page.locator("[data-count=FAILED]").textContent()) ?? "";
  await expect(page.getByTestId("total")).toHaveText(`${chip.split(" ")[1]} jobs`);

  await page.getByTestId("filter-namespace").selectOption("ml");
  await expect.poll(() => jobs.params().get("namespace")).toBe("ml");
  await expect.poll(() => jobs.params().get("state")).toBe("FAILED");
  await expect.poll(async () => (await jobs.column("data-job")).every((id) => id.startsWith("ml/"))).toBe(true);

  await page.reload();
  await jobs.waitLive();
  await expect(page.getByTestId("filter-namespace")).toHaveValue("ml");
  await expect(page.locator("[data-count=FAILED]")).toHaveAttribute("data-on", "true");
  expect((await jobs.column("data-job")).every((id) => id.startsWith("ml/"))).toBe(true);

  // Search by part of a name, from the search box, keeps the other filters.
  await page.goto("/?namespace=data-eng");
  await jobs.waitLive();
  await page.getByTestId("filter-q").fill("ORDERS");
  await page.getByTestId("filter-q").press("Enter");
  await expect.poll(() => jobs.params().get("q")).toBe("ORDERS");
  expect(jobs.params().get("namespace")).toBe("data-eng");
  await expect.poll(async () => {
    const ids = await jobs.column("data-job");
    return ids.length > 0 && ids.every((id) => id.startsWith("data-eng/orders-"));
  }).toBe(true);

  // Back to the previous view.
  await page.goBack();
  await expect.poll(() => jobs.params().get("q")).toBe(null);
  await expect.poll(async () => (await jobs.column("data-job")).some((id) => !id.includes("orders-"))).toBe(true);
});

test("a column header sorts, a second click reverses", async ({ page }) => {
  const jobs = new JobsPage(page);
  await jobs.open();
  await jobs.waitLive();
  await page.locator("[data-sort=name]").click();
  await expect.poll(() => jobs.params().get("sort")).toBe("name");
  const names = async () => (await jobs.column("data-job")).map((id) => id.split("/")[1]);
  await expect.poll(async () => {
    const shown = await names();
    return shown.length > 1 && shown.every((n, i) => i === 0 || shown[i - 1] <= n);
  }).toBe(true);
  await page.locator("[data-sort=name]").click();
  await expect.poll(() => jobs.params().get("sort")).toBe("-name");
  await expect.poll(async () => {
    const shown = await names();
    return shown.length > 1 && shown.every((n, i) => i === 0 || shown[i - 1] >= n);
  }).toBe(true);
});

test("pages move by cursor, forward and back", async ({ page }) => {
  const jobs = new JobsPage(page);
  await jobs.open("sort=name&limit=5");
  await jobs.waitLive();
  const first = await jobs.column("data-job");
  expect(first).toHaveLength(5);
  await page.getByTestId("next").click();
  await expect.poll(() => jobs.params().get("cursor")).not.toBe(null);
  const name = (id: string) => id.split("/")[1];
  // Page two starts after page one ends.
  await expect
    .poll(async () => {
      const shown = await jobs.column("data-job");
      return shown.length === 5 && shown[0] !== first[0] && name(shown[0]) >= name(first[4]);
    })
    .toBe(true);
  const second = await jobs.column("data-job");
  await page.getByTestId("prev").click();
  await expect
    .poll(async () => {
      const shown = await jobs.column("data-job");
      return shown.length === 5 && name(shown[4]) <= name(second[0]);
    })
    .toBe(true);
  // A shared link to page two shows page two.
  const url = page.url();
  await page.goto(url);
  await expect(jobs.rows).toHaveCount(5);
});

test("a filter that does not parse says so", async ({ page }) => {
  await page.goto("/?state=EXPLODED");
  await expect(page.getByTestId("query-error")).toContainText("unknown state");
});

test("a job Kubernetes deleted is still listed and its page still opens", async ({ page }) => {
  const jobs = new JobsPage(page);
  await jobs.open("limit=1000");
  await jobs.waitLive();
  // The demo deletes finished jobs a little after they end.
  const deleted = page.locator("tr[data-deleted=true]").first();
  await expect(deleted).toBeVisible({ timeout: 45_000 });
  const id = (await deleted.getAttribute("data-job")) ?? "";
  // The list narrowed to that job: in the whole list, live updates move rows under the pointer.
  const [namespace, name] = id.split("/");
  await jobs.open(`namespace=${namespace}&q=${name}`);
  await page.locator(`tr[data-job="${id}"] a`).first().click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${id}$`));
  await expect(page.getByTestId("deleted")).toBeVisible();
  await expect(page.locator("tr[data-pod]").first()).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("deleted")).toBeVisible();
  await expect(page.locator("[data-testid=pods] tr[data-pod][data-deleted=true]").first()).toBeVisible();
});
