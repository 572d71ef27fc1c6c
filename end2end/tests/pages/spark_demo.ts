// The dashboard playwright.config.ts starts with a real Spark driver (pyspark) behind one
// running job at a time, and a real History Server for the jobs that ended.
import { expect, type Page } from "@playwright/test";

export const sparkDemo = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3107) + 2}`;

type Job = { namespace: string; name: string };

/** `/jobs/{ns}/{name}` of a running job whose driver is a real Spark driver. */
export async function realDriverJob(page: Page): Promise<string> {
  let found = "";
  await expect
    .poll(
      async () => {
        const list = await (await page.request.get(`${sparkDemo}/api/v1/jobs?state=RUNNING&limit=1000`)).json();
        for (const job of list.jobs as Job[]) {
          const path = `/jobs/${job.namespace}/${job.name}`;
          // Not followed: a job that has just ended redirects to the History Server.
          const r = await page.request.get(`${sparkDemo}${path}/ui/api/v1/applications`, { maxRedirects: 0 });
          if (r.status() === 200) {
            found = path;
            return true;
          }
        }
        return false;
      },
      { timeout: 150_000, intervals: [2_000] },
    )
    .toBe(true);
  return found;
}
