// The browser benchmarks, run by `make bench` and never by `make test` (whose config reads
// ./tests only). One plain demo dashboard is enough: the benchmarks serve their own data in
// front of it. Its own port, so a benchmark and a test run can share a machine.
import { defineConfig } from "@playwright/test";
import { chromium, demo } from "./shared";

const port = Number(process.env.E2E_PORT ?? 3307);

export default defineConfig({
  testDir: "./bench",
  testMatch: "*.bench.ts",
  outputDir: "./test-results/bench",
  // A slow machine must still get its figures; the benchmarks wait on conditions, not on times.
  timeout: 30 * 60_000,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: { baseURL: `http://127.0.0.1:${port}`, launchOptions: chromium, trace: "off" },
  webServer: demo(port, "--archive memory"),
});
