// A dashboard in front of the dashboard: serves a synthetic merged log of any size, streamed
// in chunks as a real server would, and passes every other request to the real dashboard. The
// viewer under test cannot tell the difference, so tests can load a million lines, or a stream
// that breaks off, without a cluster that writes them.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo } from "node:net";
import { event, textLine } from "./log_events";

export type LogPlan = {
  /** Events in the log. */
  count: number;
  /** Stop after this many events, in the middle of a line, as a dropped connection would. */
  breakAfter?: number;
  /** Break only once this settles: a browser that gets the events and the broken end in one
   * read may report the error before the events (Chromium under load did), and the test is of
   * a stream that breaks after its events have been seen. */
  breakWhen?: Promise<void>;
  /** Answer with this status and body instead. */
  status?: number;
  body?: string;
};

export class LogProxy {
  private server?: Server;
  plan: LogPlan = { count: 0 };
  /** Query strings of the log requests seen. */
  readonly requests: string[] = [];

  constructor(private readonly upstream: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop() {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://x");
    if (/^\/api\/v1\/jobs\/[^/]+\/[^/]+\/logs$/.test(url.pathname)) {
      this.requests.push(url.search);
      void this.serveLog(res, url.searchParams.get("format") === "text");
      return;
    }
    const upstream = new URL(this.upstream);
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host, connection: "close" }, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  }

  /** NDJSON, or the lines as `format=text` writes them. The text comes without the real
   * server's `content-disposition: attachment`, so that a browser shows it instead of saving it:
   * the plain-text peer of the viewer's benchmark. */
  private async serveLog(res: ServerResponse, text: boolean) {
    const plan = this.plan;
    if (plan.status) {
      res.writeHead(plan.status, { "content-type": "text/plain; charset=utf-8" });
      res.end(plan.body ?? "");
      return;
    }
    res.writeHead(200, { "content-type": text ? "text/plain; charset=utf-8" : "application/x-ndjson" });
    const line = text ? (n: number) => textLine(event(n)) : (n: number) => JSON.stringify(event(n)) + "\n";
    const end = Math.min(plan.count, plan.breakAfter ?? plan.count);
    const chunk = 2000;
    for (let n = 0; n < end; n += chunk) {
      const lines: string[] = [];
      for (let k = n; k < Math.min(end, n + chunk); k++) lines.push(line(k));
      if (!res.write(lines.join(""))) await new Promise((resolve) => res.once("drain", resolve));
    }
    if (plan.breakAfter !== undefined) {
      await plan.breakWhen;
      // Half a line, then the connection closes without the body's last chunk: the browser
      // gets every byte sent, then an incomplete body. (Destroying the socket could reset it
      // and throw away bytes the browser had not read yet, so the count would vary.)
      res.write(line(end).slice(0, 40));
      res.socket?.end();
      return;
    }
    res.end();
  }
}
