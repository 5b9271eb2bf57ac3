// A real headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
// fd 3 in, fd 4 out, one JSON message per NUL): no port, no network, no npm client to install.
// Collects console errors, exceptions, log errors (CSP violations), dialogs and every request.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The browser binary: $CHROMIUM, else the first of Debian's and others' names on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CHROMIUM) return env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'])
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        /* next */
      }
    }
  return null;
}

interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

export interface PageProblems {
  /** console.error/warn/assert calls, uncaught exceptions, Log errors (CSP violations, failed loads), dialogs. */
  errors: string[];
  /** Every URL the page requested (the document itself included). */
  requests: string[];
}

export class Browser {
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private listeners: ((e: CdpEvent) => void)[] = [];
  private buf = '';
  private stderr = '';

  private constructor(
    private proc: ChildProcess,
    private profile: string,
  ) {
    const out = proc.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, i)) as {
          id?: number;
          result?: Record<string, unknown>;
          error?: { message: string };
        } & CdpEvent;
        this.buf = this.buf.slice(i + 1);
        if (msg.id !== undefined) {
          const w = this.waiting.get(msg.id);
          this.waiting.delete(msg.id);
          if (msg.error) w?.reject(new Error(`CDP: ${msg.error.message}`));
          else w?.resolve(msg.result ?? {});
        } else for (const l of this.listeners) l(msg);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => void (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    proc.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`chromium exited (${code}): ${this.stderr}`));
      this.waiting.clear();
    });
  }

  static async launch(binary: string): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'ms-chromium-'));
    const proc = spawn(
      binary,
      [
        '--headless=new',
        '--no-sandbox', // root in CI containers; the page is our own file
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--remote-debugging-pipe',
        `--user-data-dir=${profile}`,
        // Nothing may leave the machine: no updates, sync, metrics or suggestions.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-default-apps',
        '--disable-extensions',
        '--no-first-run',
        '--no-default-browser-check',
        '--no-pings',
        '--metrics-recording-only',
        '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    const b = new Browser(proc, profile);
    await b.send('Browser.getVersion');
    return b;
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      (this.proc.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  private waitFor(method: string, sessionId: string, timeoutMs: number): Promise<CdpEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${method}`)), timeoutMs);
      const l = (e: CdpEvent) => {
        if (e.method === method && e.sessionId === sessionId) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((x) => x !== l);
          resolve(e);
        }
      };
      this.listeners.push(l);
    });
  }

  /** A new tab with the given viewport, the file loaded, its problems recorded from the start. */
  async open(url: string, viewport: { width: number; height: number; mobile: boolean }): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const problems: PageProblems = { errors: [], requests: [] };
    this.listeners.push((e) => {
      if (e.sessionId !== sessionId) return;
      const p = e.params as Record<string, any>;
      if (e.method === 'Runtime.consoleAPICalled' && ['error', 'warning', 'assert'].includes(p.type))
        problems.errors.push(
          `console.${p.type}: ${(p.args as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description).join(' ')}`,
        );
      if (e.method === 'Runtime.exceptionThrown')
        problems.errors.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
      if (e.method === 'Log.entryAdded' && ['error', 'warning'].includes(p.entry.level))
        problems.errors.push(`log ${p.entry.source}: ${p.entry.text}`);
      if (e.method === 'Page.javascriptDialogOpening') {
        problems.errors.push(`dialog ${p.type}: ${p.message}`);
        void this.send('Page.handleJavaScriptDialog', { accept: false }, sessionId);
      }
      if (e.method === 'Network.requestWillBeSent') problems.requests.push(p.request.url);
    });
    for (const d of ['Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable']) await this.send(d, {}, sessionId);
    await this.send(
      'Emulation.setDeviceMetricsOverride',
      { width: viewport.width, height: viewport.height, deviceScaleFactor: 1, mobile: viewport.mobile },
      sessionId,
    );
    const loaded = this.waitFor('Page.loadEventFired', sessionId, 20_000);
    await this.send('Page.navigate', { url }, sessionId);
    await loaded;
    return new Page(this, sessionId, problems);
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    try {
      await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 3000))]);
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    if (this.proc.exitCode === null) await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  constructor(
    private browser: Browser,
    private sessionId: string,
    readonly problems: PageProblems,
  ) {}

  /** Evaluate an expression in the page; its value comes back as JSON. */
  async eval<T>(expression: string): Promise<T> {
    const r = (await this.browser.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, this.sessionId)) as {
      result: { value: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** The whole page (beyond the viewport) as PNG. */
  async screenshot(): Promise<Buffer> {
    const m = (await this.browser.send('Page.getLayoutMetrics', {}, this.sessionId)) as {
      cssContentSize: { width: number; height: number };
    };
    const clip = { x: 0, y: 0, width: Math.ceil(m.cssContentSize.width), height: Math.ceil(m.cssContentSize.height), scale: 1 };
    const { data } = (await this.browser.send(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true, clip },
      this.sessionId,
    )) as { data: string };
    return Buffer.from(data, 'base64');
  }
}
