// An on-call engineer opens a job: its state, pods, events and Spark configuration; links
// from Spark and Airflow land on the same page.
import { expect, test } from "./fixtures";
import { JobPage } from "./pages/job_page";
import { JobsPage } from "./pages/jobs_page";

type Job = { namespace: string; name: string; state: string; app_id: string | null; airflow: null | { dag_id: string; task_id: string; run_id: string } };

test("a job's name in the list opens its page with pods, events and Spark conf", async ({ page, request }) => {
  const jobs = new JobsPage(page);
  const list = (await (await request.get("/api/v1/jobs")).json()).jobs as Job[];
  // A running SparkApplication (spark-submit jobs have no spec to read a configuration from).
  let running: Job | undefined;
  for (const j of list.filter((j) => j.state === "RUNNING" && j.app_id)) {
    const detail = await (await request.get(`/api/v1/jobs/${j.namespace}/${j.name}`)).json();
    if (Object.keys(detail.spark_conf).length > 0) {
      running = j;
      break;
    }
  }
  expect(running, "a running SparkApplication").toBeTruthy();
  // The list narrowed to that job: in the whole list, live updates move rows under the pointer.
  await jobs.open(`q=${running!.name}`);
  await page.locator(`tr[data-job="${running!.namespace}/${running!.name}"] a`).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${running!.namespace}/${running!.name}$`));
  const job = new JobPage(page);
  await expect(job.root).toBeVisible();
  await expect(job.pods.first()).toContainText("driver");
  await expect(job.events.first()).toBeVisible();
  await expect(job.sparkConf).toContainText("spark.executor.memory");
});

test("a failed job says why in plain words", async ({ page, request }) => {
  const list = (await (await request.get("/api/v1/jobs")).json()).jobs as Job[];
  const failed = list.find((j) => j.state === "FAILED" || j.state === "SUBMISSION_FAILED");
  expect(failed, "a failed job").toBeTruthy();
  const job = new JobPage(page);
  await job.open(`${failed!.namespace}/${failed!.name}`);
  await expect(page.getByTestId("failure")).toBeVisible();
});

test("deep links from Spark and Airflow redirect to the job, unknown ones explain", async ({ page, request }) => {
  const list = (await (await request.get("/api/v1/jobs")).json()).jobs as Job[];
  const withApp = list.find((j) => j.app_id)!;
  await page.goto(`/apps/${withApp.app_id}`);
  await expect(page).toHaveURL(new RegExp(`/jobs/${withApp.namespace}/${withApp.name}$`));
  await expect(new JobPage(page).root).toBeVisible();

  const fromAirflow = list.find((j) => j.airflow)!;
  const a = fromAirflow.airflow!;
  await page.goto(`/airflow/${a.dag_id}/${a.task_id}/${encodeURIComponent(a.run_id)}`);
  await expect(page).toHaveURL(new RegExp(`/jobs/${fromAirflow.namespace}/${fromAirflow.name}$`));

  const missing = await page.goto("/apps/spark-00000000000000000000000000000000");
  expect(missing?.status()).toBe(404);
  await expect(page.getByTestId("no-job")).toContainText("spark-00000000000000000000000000000000");
  const noTask = await page.goto("/airflow/no_dag/no_task/manual__x");
  expect(noTask?.status()).toBe(404);
  await expect(page.getByTestId("no-job")).toContainText("no_dag.no_task");
  const noJob = await page.goto("/jobs/ml/not-a-job");
  expect(noJob?.status()).toBe(404);
});

test("a running job links to its Spark UI by job id, served by the dashboard", async ({ page, request }) => {
  const list = (await (await request.get("/api/v1/jobs?state=RUNNING")).json()).jobs as Job[];
  expect(list.length, "a running job").toBeGreaterThan(0);
  const job = list[0];
  await page.goto(`/jobs/${job.namespace}/${job.name}`);
  const link = page.getByTestId("spark-ui");
  await expect(link).toHaveAttribute("href", `/jobs/${job.namespace}/${job.name}/ui/`);
  await link.click();
  // The demo's simulated drivers have no UI behind them: the proxy says so and leads back.
  await expect(page).toHaveURL(new RegExp(`/jobs/${job.namespace}/${job.name}/ui/$`));
  await expect(page.getByTestId("ui-error")).toContainText("cannot be reached");
  await page.getByText("Back to the job").click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${job.namespace}/${job.name}$`));
});
