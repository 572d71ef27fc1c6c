// What the browser tests (`playwright.config.ts`) and the browser benchmarks (`bench.config.ts`)
// share: Debian's Chromium, never a downloaded browser, and the release binary's demo as the
// dashboard under test.
import type { LaunchOptions, PlaywrightTestConfig } from "@playwright/test";

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
