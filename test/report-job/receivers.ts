// Test doubles the report talks to over loopback: an HTTP receiver for webhooks (answers 200, or
// 500 when told to) and the SMTP sink started as a separate process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export class HttpReceiver {
  readonly received: Received[] = [];
  /** Paths (prefixes) that answer 500 instead of 200; their requests are still recorded. */
  readonly failing = new Set<string>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<HttpReceiver> {
    let self: HttpReceiver | undefined;
    const server = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString('utf8')));
      req.on('end', () => {
        const path = req.url ?? '';
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(data) as Record<string, unknown>;
        } catch {
          body = { unparsable: data };
        }
        self!.received.push({ path, headers: req.headers, body });
        const fail = [...self!.failing].some((p) => path.startsWith(p));
        res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' }).end(fail ? 'receiver down' : 'ok');
      });
    });
    self = new HttpReceiver(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  at(prefix: string): Received[] {
    return this.received.filter((r) => r.path.startsWith(prefix));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

export interface SinkMessage {
  from: string;
  to: string[];
  data: string;
}

export class SmtpSinkProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly out: string,
  ) {}

  static async start(out: string): Promise<SmtpSinkProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/report-job/smtp-sink-process.ts', out], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.once('line', (l) => resolve(Number(/^port (\d+)$/.exec(l)?.[1])));
      child.once('exit', (code) => reject(new Error(`SMTP sink exited with ${code}`)));
    });
    return new SmtpSinkProcess(child, port, out);
  }

  get pid(): number {
    return this.child.pid!;
  }

  messages(): SinkMessage[] {
    if (!existsSync(this.out)) return [];
    return readFileSync(this.out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as SinkMessage);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await done;
  }
}
