// What the browser tests (`playwright.config.ts`) and the browser benchmarks (`bench.config.ts`)
// share: Debian's Chromium, never a downloaded browser, and the release binary's demo as the
// dashboard under test.
import type { LaunchOptions, PlaywrightTestConfig } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

type WebServer = Exclude<NonNullable<PlaywrightTestConfig["webServer"]>, unknown[]>;

const binary = process.env.SPARKBOARD_BIN ?? "../target/release/sparkboard";

export const chromium: LaunchOptions = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

/** `sparkboard demo` on `port` with `flags`; ready once it answers `/readyz`. Only the first
 * dashboard's output is worth reading when a run fails, so the others may ignore theirs. */
export function demo(port: number, flags: string, output: "pipe" | "ignore" = "pipe"): WebServer {
  return {
    command: `${binary} demo --listen 127.0.0.1:${port} ${flags}`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: output,
    stderr: output,
  };
}

/** A real Prometheus (Debian's, `PROMETHEUS`) on `port`, scraping the simulated cluster at
 * `target` (host:port) every `every` seconds into a fresh directory under `dir`, as the
 * cluster's cAdvisor and kube-state-metrics. */
export function prometheus(port: number, target: string, dir: string, every = 2): WebServer {
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      `  scrape_interval: ${every}s`,
      `  scrape_timeout: ${every}s`,
      "scrape_configs:",
      "  - job_name: cadvisor",
      "    metrics_path: /metrics/cadvisor",
      `    static_configs: [{targets: ['${target}']}]`,
      "  - job_name: kube-state-metrics",
      "    metrics_path: /metrics/kube-state-metrics",
      "    honor_labels: true",
      `    static_configs: [{targets: ['${target}']}]`,
      "",
    ].join("\n"),
  );
  const binary = process.env.PROMETHEUS ?? "prometheus";
  return {
    command: `${binary} --config.file=${config} --storage.tsdb.path=${join(dir, "data")} --web.listen-address=127.0.0.1:${port} --storage.tsdb.retention.time=1d`,
    url: `http://127.0.0.1:${port}/-/ready`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "ignore",
  };
}
