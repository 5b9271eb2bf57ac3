// `mailsweep demo`: a built-in fleet of fake mail servers on loopback, replaying output
// recorded from real exim, postfix and sendmail servers (test/lab), scanned like a real fleet.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { packagePath } from '../package-root.js';
import { startFakeFleet, type FleetHostEntry } from '../demo/fleet.js';
import { INCIDENT_HOST } from '../demo/incident-fakes.js';
import { runScan } from './scan.js';

export const DEMO_DIR = packagePath('fixtures', 'demo');

/** The manifest names recorded files relative to fixtures/demo; make them absolute for the stubs. */
export async function loadDemoFleet(dir = DEMO_DIR): Promise<FleetHostEntry[]> {
  const entries = JSON.parse(await readFile(join(dir, 'fleet.json'), 'utf8')) as FleetHostEntry[];
  for (const e of entries) {
    e.tools ??= [];
    for (const t of e.tools) for (const c of Object.values(t.cases)) if (c.file && !isAbsolute(c.file)) c.file = join(dir, c.file);
    for (const r of e.replay ?? []) if (r.file && !isAbsolute(r.file)) r.file = join(dir, r.file);
  }
  return entries;
}

export async function runDemo(o: { format: string; keep?: boolean; dir?: string }): Promise<number> {
  const entries = await loadDemoFleet();
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'mailsweep-demo-')));
  const fleet = await startFakeFleet(dir, entries);
  try {
    process.stderr.write(
      `mailsweep demo: ${fleet.hosts.length} fake mail servers on 127.0.0.1 (real SSH, queue output recorded from real MTAs)\n` +
        `  inventory:   ${fleet.inventoryPath}\n  known_hosts: ${fleet.knownHostsPath}\n\n`,
    );
    const code = await runScan({
      inventory: fleet.inventoryPath,
      knownHosts: fleet.knownHostsPath,
      forks: '50',
      timeout: '5',
      connectTimeout: '3',
      format: o.format,
      history: join(dir, 'history.sqlite'),
    });
    process.stderr.write(
      `\nA real 'mailsweep scan' would exit ${code} here (0 ok, 1 warning, 2 critical, 3 unknown).\n` +
        (o.keep
          ? `In another terminal: npx mailsweep scan -i ${fleet.inventoryPath} --known-hosts ${fleet.knownHostsPath} --format json\n`
          : `Run 'npm run demo -- --keep' to keep the fleet up and scan it yourself (npx mailsweep scan -i …/inventory.yaml).\n`) +
        `Run 'npm run demo -- --incident' to rehearse the whole incident on ${INCIDENT_HOST}: reset, restart, purge, notify.\n`,
    );
    if (o.keep) {
      process.stderr.write('Demo fleet is running; press Ctrl-C to stop it.\n');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    return 0;
  } finally {
    await fleet.close();
  }
}
