// Playwright drives Debian's Chromium (never a downloaded browser) against the release binary,
// which `make test` builds first. The demo plays its workload three times faster, so state
// changes arrive within seconds.
import { defineConfig } from "@playwright/test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, demo } from "./shared";

const port = Number(process.env.E2E_PORT ?? 3107);
// A fresh job archive per run, so that jobs archived by an earlier run do not show up.
const archive = mkdtempSync(join(tmpdir(), "sparkboard-e2e-archive-"));
// A second dashboard whose archive cannot work (its path runs through a regular file), for the
// banner that says so.
const brokenPort = port + 1;
const notADirectory = join(archive, "not-a-directory");
writeFileSync(notADirectory, "");
// A third dashboard whose running jobs get real local Spark drivers (pyspark, Java 17) and a
// real History Server, for the Spark UI through the proxy.
const sparkPort = port + 2;
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
    demo(sparkPort, `--archive ${archive}/spark --metrics-sample-every 2 --real-spark-drivers 1 --python ${python} --spark-event-log-dir ${archive}/events`, "ignore"),
    demo(brokenPort, `--archive ${notADirectory}/jobs`, "ignore"),
  ],
});
