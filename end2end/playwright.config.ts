// Playwright drives Debian's Chromium (never a downloaded browser) against the release binary,
// which `make test` builds first. The demo plays its workload three times faster, so state
// changes arrive within seconds.
import { defineConfig } from "@playwright/test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, demo, prometheus } from "./shared";

const port = Number(process.env.E2E_PORT ?? 3107);
// A fresh job archive per run, so that jobs archived by an earlier run do not show up.
const archive = mkdtempSync(join(tmpdir(), "sparkboard-e2e-archive-"));
// A second dashboard whose archive cannot work (its path runs through a regular file), for the
// banner that says so.
const brokenPort = port + 1;
const notADirectory = join(archive, "not-a-directory");
writeFileSync(notADirectory, "");
// A third dashboard whose running jobs get real local Spark drivers (pyspark, Java 17) and a
// real History Server, for the Spark UI through the proxy. It plays in real time, so a real
// Prometheus scraping its simulated cluster (served on simPort) holds the history of its jobs'
// containers at the times the dashboard knows them.
const sparkPort = port + 2;
const simPort = port + 3;
const prometheusPort = port + 4;
const python = process.env.PYTHON ?? "../.tools/venv/bin/python";

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: chromium,
    trace: "off",
  },
  webServer: [
    demo(port, `--speed 3 --archive ${archive}/jobs`),
    prometheus(prometheusPort, `127.0.0.1:${simPort}`, archive),
    demo(
      sparkPort,
      `--archive ${archive}/spark --sim-listen 127.0.0.1:${simPort} --prometheus http://127.0.0.1:${prometheusPort} --prometheus-scrape-interval 2 --real-spark-drivers 1 --python ${python} --spark-event-log-dir ${archive}/events`,
      "ignore",
    ),
    demo(brokenPort, `--archive ${notADirectory}/jobs`, "ignore"),
  ],
});
