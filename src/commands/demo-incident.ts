// `mailsweep demo --incident`: the demo fleet plus a fake WHM and an SMTP sink on loopback, the
// hijacked host's MTA kept in memory (src/demo/fake-exim.ts), and the real `mailsweep incident`
// run unattended on it — identify, reset, restart, purge, backscatter, notify, summary — then
// what changed, read back over SSH as any later scan would. Nothing leaves this machine; every
// server started here is stopped at the end, on failure and on Ctrl-C.
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitError, EXIT } from '../errors.js';
import { startIncidentFakes, INCIDENT_HOST, type IncidentFakes } from '../demo/incident-fakes.js';
import { loadInventory } from '../inventory/load.js';
import { selectHosts } from '../inventory/pattern.js';
import { transportFor } from '../scan/connect.js';
import { scanHost } from '../scan/host.js';
import type { HostReport } from '../scan/types.js';
import { printable } from '../text/printable.js';
import { KnownHostsFile } from '../transport/known-hosts.js';
import { quote } from '../transport/quote.js';
import { DEMO_DIR, loadDemoFleet } from './demo.js';
import { runIncident } from './incident.js';

export interface DemoIncidentOptions {
  dir?: string;
  keep?: boolean;
  /** Where the narration goes (default stderr) and the closing figures (default stdout). */
  err?: (text: string) => void;
  out?: (text: string) => void;
}

export interface DemoIncidentResult {
  code: number;
  fakes: IncidentFakes;
  before: HostReport;
  after: HostReport | null;
  journal: string | null;
}

/** The hijacked host's queue as `mailsweep scan` reads it (over SSH, the real parser). */
async function readQueue(f: IncidentFakes): Promise<HostReport> {
  const host = selectHosts(await loadInventory(f.fleet.inventoryPath), INCIDENT_HOST)[0]!;
  const transport = transportFor(host, {
    knownHosts: new KnownHostsFile(f.fleet.knownHostsPath),
    hostKeyPolicy: 'strict',
    perHostKnownHosts: false,
    connectTimeoutMs: 5000,
  });
  try {
    return await scanHost(host, transport, { commandTimeoutMs: 10_000, includeMessages: true });
  } finally {
    await transport.close();
  }
}

/** Queued messages per submitting account; bounces and unattributed mail on lines of their own. */
function byOwner(r: HostReport | null): Map<string, number> {
  const m = new Map<string, number>();
  for (const q of r?.messages ?? []) {
    const k = q.authId ? printable(q.authId, { max: 80 }) : q.bounce ? '(null-sender bounces)' : '(no account)';
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** The notice's Subject header, unfolded, encoded words decoded (nodemailer writes them for non-ASCII). */
export function subjectOf(data: string): string {
  const head = data.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const raw = /^subject: ?(.*)$/im.exec(head)?.[1] ?? '';
  return raw.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

function changes(f: IncidentFakes, account: string, before: HostReport, after: HostReport | null, pidBefore: number): string {
  const b = byOwner(before);
  const a = byOwner(after);
  // The hijacked account first, the other customers, then bounces and unattributed mail.
  const rank = (n: string) => (n === account ? 0 : n.startsWith('(') ? 2 : 1);
  const names = [...new Set([...b.keys(), ...a.keys()])].sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
  const width = Math.max(...names.map((n) => n.length), 24) + 13;
  const row = (name: string, x: string | number, y: string | number) =>
    `  ${name.padEnd(width)}${String(x).padStart(7)}${String(y).padStart(7)}`;
  const lines = [
    `What changed on ${INCIDENT_HOST} (its queue read over SSH before and after, as a scan reads it):`,
    row('submitted by', 'before', 'after'),
  ];
  for (const n of names) lines.push(row(n === account ? `${n}  (hijacked)` : n, b.get(n) ?? 0, a.get(n) ?? 0));
  lines.push(row('total', before.messages?.length ?? '?', after?.messages?.length ?? '?'));
  const kept = names.filter((n) => n !== account && !n.startsWith('(')).every((n) => (a.get(n) ?? 0) === (b.get(n) ?? 0));
  lines.push(
    kept ? "  Every other customer's mail is still queued." : "  WARNING: other customers' mail changed: see the journal.",
    `exim daemon pid: ${pidBefore} -> ${f.mta.pid} (${f.mta.restarts} restart(s) by the playbook)`,
  );
  const mb = f.whm.mailbox(account);
  lines.push(
    `password of ${printable(account)}: changed ${mb?.passwordChanges ?? 0} time(s) through the FAKE WHM; the new one is only in the run's new-password file (mode 600), never on screen`,
  );
  for (const m of f.sink.messages)
    lines.push(
      `customer notice: to ${printable(m.to.join(', '))}, subject "${printable(subjectOf(m.data), { max: 200 })}" (caught by the local SMTP sink; nothing left this machine)`,
    );
  if (f.sink.messages.length === 0) lines.push('customer notice: none reached the SMTP sink');
  return lines.join('\n') + '\n';
}

async function journalOf(runsDir: string): Promise<string | null> {
  const j = (await readdir(runsDir).catch(() => [])).filter((n) => n.endsWith('.jsonl')).sort();
  return j.length ? join(runsDir, j[j.length - 1]!) : null;
}

/** The demo incident, its fakes returned (stopped) for a caller that checks them (the tests). */
export async function demoIncident(o: DemoIncidentOptions = {}): Promise<DemoIncidentResult> {
  const err = o.err ?? ((t: string) => void process.stderr.write(t));
  const out = o.out ?? ((t: string) => void process.stdout.write(t));
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'mailsweep-demo-')));
  // A machine without openssl (the fake WHM's certificate) or a --dir it cannot write: said plainly, exit 3.
  const fakes = await startIncidentFakes(dir, await loadDemoFleet(), (h) => join(DEMO_DIR, h)).catch((e: Error) => {
    throw new ExitError(EXIT.unknown, `demo --incident: cannot start the fake servers: ${e.message}`);
  });
  // Ctrl-C or a kill: the servers go first, then the process (130/143 as a shell reports them).
  let stopped: (() => void) | undefined;
  const onSignal = (code: number) => () => {
    if (stopped) return stopped();
    err('\nmailsweep demo: stopping the fake servers\n');
    void fakes.close().finally(() => process.exit(code));
  };
  const onInt = onSignal(130);
  const onTerm = onSignal(143);
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const runsDir = join(dir, 'runs');
    err(
      `mailsweep demo --incident: a rehearsal of the hijacked-account playbook with zero real servers\n` +
        `  ${fakes.fleet.hosts.length} fake mail servers on 127.0.0.1 (real SSH); ${INCIDENT_HOST}'s exim queue is kept in memory,\n` +
        `    seeded from a recording of a real server: purge and hold really change it, a restart gives a new pid\n` +
        `  FAKE WHM (an imitation of cPanel's WHM API 1, NOT cPanel): ${fakes.whm.url}, self-signed certificate made for this run\n` +
        `  SMTP sink (catches the customer notice): 127.0.0.1:${fakes.sink.port}\n` +
        `  inventory:   ${fakes.fleet.inventoryPath}\n  known_hosts: ${fakes.fleet.knownHostsPath}\n\n`,
    );
    const pidBefore = fakes.mta.pid;
    const before = await readQueue(fakes);
    const top = before.suspects?.[0];
    if (before.status !== 'ok' || !top)
      throw new ExitError(
        EXIT.failed,
        `demo --incident: the scan of ${INCIDENT_HOST} found no suspect (${before.status}: ${printable(before.reason ?? '')})`,
      );
    const account = top.authId;
    err(
      `The scan of ${INCIDENT_HOST}: ${before.queue?.total ?? '?'} queued; top suspect ${printable(account)} (${top.queued} queued, ${top.rules.join(', ')}).\n` +
        `Running the incident unattended, as you would at 3 a.m.:\n  mailsweep ${['incident', INCIDENT_HOST, '-i', fakes.fleet.inventoryPath, '--known-hosts', fakes.fleet.knownHostsPath, '--runs-dir', runsDir, '--yes', '--auth-id', account].map((w) => printable(quote(w))).join(' ')}\n\n`,
    );
    const code = await runIncident(INCIDENT_HOST, {
      inventory: fakes.fleet.inventoryPath,
      knownHosts: fakes.fleet.knownHostsPath,
      runsDir,
      yes: true,
      authId: account,
      timeout: '10',
    });
    const after = await readQueue(fakes).catch(() => null);
    const journal = await journalOf(runsDir);
    out(`\n${changes(fakes, account, before, after, pidBefore)}journal: ${journal ?? '(none written)'}\n`);
    err(`\nA real 'mailsweep incident' would exit ${code} here (0 done, 1 a step failed, 2 connection, 3 usage, 130 aborted).\n`);
    if (o.keep) {
      err(
        `The fakes are still running: try  npx mailsweep scan -i ${quote(fakes.fleet.inventoryPath)} --known-hosts ${quote(fakes.fleet.knownHostsPath)}\nPress Ctrl-C to stop them.\n`,
      );
      await new Promise<void>((resolve) => (stopped = resolve));
    }
    return { code, fakes, before, after, journal };
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await fakes.close();
  }
}

export async function runDemoIncident(o: DemoIncidentOptions): Promise<number> {
  return (await demoIncident(o)).code;
}
