// The 100k-message host benchmark (issue #11): one fake exim host whose queue read answers a
// realistic 100,000-message listing (the plain read, or the attributed one with every spool -H
// envelope), scanned alongside small hosts with forks 50. Each scenario runs in its own process
// (peak RSS is per process) and the fake fleet in another (its SSH servers are not the scanner's
// cost): peak RSS, event-loop delay during the scan, and each small host's duration.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { StubTool } from '../demo/fake-host.js';
import type { FleetHostEntry } from '../demo/fleet.js';

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function b62(n: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = B62[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s;
}

/** A hijacked account's queue: 100k messages, 1–3 recipients, some bounces (frozen), some local logins. */
function messageId(i: number): string {
  return `1x${b62(i >> 12, 4)}-${b62(i, 11)}-${b62(i % 3844, 4)}`;
}

/** Writes the attributed (or plain) exim queue read of `n` messages to `path`; returns its size in bytes. */
export async function writeBigEximOutput(path: string, n: number, attributed: boolean): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let buf: string[] = [];
  const flush = async () => {
    const s = buf.join('');
    buf = [];
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  buf.push(`${n}\n__MAILSWEEP_RC__ bpc 0\n`);
  for (let i = 0; i < n; i++) {
    const bounce = i % 13 === 12;
    const sender = bounce ? '<>' : `<${i % 5 ? 'bob' : `user${i % 40}`}@s${i % 7}.example>`;
    buf.push(
      `${String((i % 59) + 1).padStart(3)}m  ${1 + (i % 9)}.${i % 10}K ${messageId(i)} ${sender}${bounce ? ' *** frozen ***' : ''}\n`,
    );
    for (let r = 0; r <= i % 3; r++) buf.push(`          v${(i * 7 + r) % 100_000}@m${r}.example.net\n`);
    buf.push('\n');
    if (buf.length > 4096) await flush();
  }
  buf.push('__MAILSWEEP_RC__ bp 0\n');
  if (attributed) {
    buf.push('spool_directory = /var/spool/exim4\n__MAILSWEEP_RC__ spooldir 0\n');
    for (let i = 0; i < n; i++) {
      const id = messageId(i);
      const bounce = i % 13 === 12;
      buf.push(
        `__MAILSWEEP_H__ /var/spool/exim4/input/${id}-H\n|${id}-H\n|Debian-exim 100 102\n|${bounce ? '<>' : `<bob@s${i % 7}.example>`}\n|${1_795_400_000 + i} 0\n`,
      );
      if (!bounce)
        buf.push(
          `|-host_address [198.51.100.${i % 250}]:${40000 + (i % 20000)}\n|-host_auth login\n|-received_protocol esmtpa\n|-auth_id ${i % 5 ? 'bob' : `user${i % 40}`}@s${i % 7}.example\n`,
        );
      else buf.push('|-local\n|-received_protocol local\n');
      buf.push(`|XX\n|${(i % 3) + 1}\n`);
      for (let r = 0; r <= i % 3; r++) buf.push(`|v${(i * 7 + r) % 100_000}@m${r}.example.net\n`);
      if (buf.length > 4096) await flush();
    }
    buf.push('__MAILSWEEP_RC__ spool 0\n');
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return bytes;
}

/** The small hosts' listing (50 messages). */
function smallListing(seed: number): string {
  const out: string[] = [];
  for (let i = 0; i < 50; i++)
    out.push(
      `${String((i % 59) + 1).padStart(3)}m  2.${i % 10}K 1W${b62(seed, 4)}-${b62(i, 6)}-${b62(i, 2)} <user${i % 7}@example.test>`,
      `          rcpt${i}@remote.test`,
      '',
    );
  return out.join('\n');
}

export interface ScenarioResult {
  scenario: string;
  hosts: number;
  ok: number;
  wallMs: number;
  /** process.resourceUsage().maxRSS, MB. */
  peakRssMb: number;
  rssBeforeMb: number;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  small: { medianMs: number; maxMs: number; durations: Record<string, number>; stretchMaxMs?: number };
  big?: { durationMs: number; total: number | null; attributed: number; findings: string[]; bytes: number };
}

// ---------------------------------------------------------------------------
// Child: the fake fleet (run with `fleet <spec.json>`), printing its paths, closing on stdin's end.

async function fleetChild(specPath: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const { startFakeFleet } = await import('../demo/fleet.js');
  const spec = JSON.parse(await readFile(specPath, 'utf8')) as { dir: string; small: number; big: { file: string; match: string } | null };
  const entries: FleetHostEntry[] = Array.from({ length: spec.small }, (_, i) => ({
    name: `small${i}`,
    mode: 'normal',
    // The MTA is named: this measures the queue read, and the big host's answer is a recording of that command.
    vars: { mta: 'exim' },
    tools: [
      { name: 'ps', cases: { '*': { text: 'exim4\n' } } } as StubTool,
      // Each answers, then takes 0–3 s more (a busy disk): small hosts are still in flight while the big one is parsed.
      { name: 'exim', cases: { '-bpc': { text: '50\n', sleep: i % 4 }, '-bp': { text: smallListing(i) } } } as StubTool,
    ],
  }));
  if (spec.big)
    entries.push({
      name: 'big',
      mode: 'normal',
      vars: { mta: 'exim' },
      tools: [
        { name: 'ps', cases: { '*': { text: 'exim4\n' } } } as StubTool,
        { name: 'exim', cases: { '-bpc': { text: '0\n' }, '-bp': { text: '' } } } as StubTool,
      ],
      replay: [{ match: spec.big.match, file: spec.big.file }],
    });
  const fleet = await startFakeFleet(spec.dir, entries);
  process.stdout.write(JSON.stringify({ inventoryPath: fleet.inventoryPath, knownHostsPath: fleet.knownHostsPath }) + '\n');
  process.stdin.resume();
  await once(process.stdin, 'end');
  await fleet.close();
}

// ---------------------------------------------------------------------------
// Child: one scan (run with `scan <args.json>`), printing a ScenarioResult.

async function scanChild(argsPath: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const { loadInventory } = await import('../inventory/load.js');
  const { scanFleet } = await import('../scan/fleet.js');
  const { KnownHostsFile } = await import('../transport/known-hosts.js');
  const a = JSON.parse(await readFile(argsPath, 'utf8')) as {
    scenario: string;
    inventoryPath: string;
    knownHostsPath: string;
    attribution: boolean;
    bytes: number;
  };
  const inv = await loadInventory(a.inventoryPath);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const t0 = Date.now();
  const r = await scanFleet(inv.hosts, {
    forks: 50,
    commandTimeoutMs: 60_000,
    connectTimeoutMs: 20_000,
    knownHosts: new KnownHostsFile(a.knownHostsPath),
    hostKeyPolicy: 'strict',
    includeMessages: false,
    attribution: a.attribution,
  });
  const wallMs = Date.now() - t0;
  h.disable();
  const small = r.hosts.filter((x) => x.name.startsWith('small'));
  const ds = small.map((x) => x.durationMs).sort((x, y) => x - y);
  const big = r.hosts.find((x) => x.name === 'big');
  const out: ScenarioResult = {
    scenario: a.scenario,
    hosts: r.hosts.length,
    ok: r.summary.byStatus.ok,
    wallMs,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    rssBeforeMb: Math.round(rssBefore / 1e6),
    loopDelayMaxMs: Math.round(h.max / 1e6),
    loopDelayP99Ms: Math.round(h.percentile(99) / 1e6),
    small: {
      medianMs: ds[Math.floor(ds.length / 2)] ?? 0,
      maxMs: ds[ds.length - 1] ?? 0,
      durations: Object.fromEntries(small.map((x) => [x.name, x.durationMs])),
    },
  };
  if (big)
    out.big = {
      durationMs: big.durationMs,
      total: big.queue?.total ?? null,
      attributed: big.suspects?.reduce((n, s) => n + (s.messages ?? 0), 0) ?? 0,
      findings: big.findings.map((f) => f.rule),
      bytes: a.bytes,
    };
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ---------------------------------------------------------------------------
// The orchestrator: fleet process, then one scan process per scenario.

function run(args: string[], input?: 'keep'): { child: ReturnType<typeof spawn>; line: Promise<string> } {
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const line = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}`)));
  });
  if (input !== 'keep') child.stdin!.end();
  return { child, line };
}

async function scenario(
  dir: string,
  name: string,
  small: number,
  big: { file: string; bytes: number } | null,
  attribution: boolean,
): Promise<ScenarioResult> {
  const { writeFile } = await import('node:fs/promises');
  const fdir = join(dir, name);
  const spec = join(dir, `${name}.fleet.json`);
  await writeFile(
    spec,
    JSON.stringify({ dir: fdir, small, big: big ? { file: big.file, match: attribution ? 'spool_directory' : '-bpc' } : null }),
  );
  const fleet = run(['fleet', spec], 'keep');
  try {
    const paths = JSON.parse(await fleet.line) as { inventoryPath: string; knownHostsPath: string };
    const args = join(dir, `${name}.scan.json`);
    await writeFile(args, JSON.stringify({ scenario: name, ...paths, attribution, bytes: big?.bytes ?? 0 }));
    return JSON.parse(await run(['scan', args]).line) as ScenarioResult;
  } finally {
    fleet.child.stdin!.end();
    await once(fleet.child, 'exit').catch(() => {});
  }
}

/** The 100k-message host benchmark: prints one line per scenario and returns the results. */
export async function benchBigHost(o: { messages?: number; small?: number; attributed?: boolean } = {}): Promise<ScenarioResult[]> {
  const n = o.messages ?? 100_000;
  const small = o.small ?? 50;
  const dir = mkdtempSync(join(tmpdir(), 'ms-bighost-'));
  const results: ScenarioResult[] = [];
  const plain = join(dir, 'plain.out');
  const plainBytes = await writeBigEximOutput(plain, n, false);
  const attr = join(dir, 'attributed.out');
  const attrBytes = o.attributed === false ? 0 : await writeBigEximOutput(attr, n, true);
  const show = (r: ScenarioResult) => {
    const b = r.big
      ? `  big: ${(r.big.bytes / 1e6).toFixed(1)} MB, ${r.big.durationMs} ms, ${r.big.total} msgs${r.big.findings.includes('queue-output') ? ' (cut)' : ''}`
      : '';
    console.log(
      `${r.scenario.padEnd(26)} ${String(r.ok).padStart(3)}/${r.hosts} ok  peak RSS ${String(r.peakRssMb).padStart(4)} MB  loop delay max ${String(r.loopDelayMaxMs).padStart(5)} ms p99 ${String(r.loopDelayP99Ms).padStart(5)} ms  small hosts median ${r.small.medianMs} ms max ${r.small.maxMs} ms${r.small.stretchMaxMs !== undefined ? ` stretched ≤ ${r.small.stretchMaxMs} ms` : ''}${b}`,
    );
  };
  for (const [name, big, attribution] of [
    ['small only, no attribution', null, false],
    [`+${n / 1000}k host, no attribution`, { file: plain, bytes: plainBytes }, false],
    ...(o.attributed === false
      ? []
      : ([
          ['small only, attributed', null, true],
          [`+${n / 1000}k host, attributed`, { file: attr, bytes: attrBytes }, true],
        ] as const)),
  ] as const) {
    const r = await scenario(dir, name.replace(/\W+/g, '-'), small, big, attribution);
    r.scenario = name;
    // Each small host's duration against the same host in the run without the big one.
    const base = big ? results[results.length - 1] : undefined;
    if (base) r.small.stretchMaxMs = Math.max(...Object.entries(r.small.durations).map(([h, d]) => d - (base.small.durations[h] ?? d)));
    show(r);
    results.push(r);
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, arg] = process.argv.slice(2);
  if (mode === 'fleet') await fleetChild(arg!);
  else if (mode === 'scan') await scanChild(arg!);
  else {
    const res = await benchBigHost({
      messages: Number(process.env.BENCH_BIG_MESSAGES ?? 100_000),
      small: Number(process.env.BENCH_BIG_SMALL ?? 50),
    });
    if (process.env.BENCH_JSON) process.stdout.write(JSON.stringify(res) + '\n');
  }
}
