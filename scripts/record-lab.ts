// Record, from the running real-server lab, the exact output of mailsweep's own commands
// (MTA detection, attributed queue read, log window read) for the unit tests and the demo fleet.
// Usage: npx tsx scripts/record-lab.ts [LAB_DIR=.lab] [OUT=test/fixtures/lab] [SUFFIX]
// A SUFFIX (e.g. -clean) records into <host><SUFFIX>/, for states such as "after an incident run".
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FILE_MARKER, logReadCommand } from '../src/logs/read.js';
import { DETECT_COMMAND, parseDetect } from '../src/mta/detect.js';
import { getAdapter } from '../src/mta/index.js';
import { localDomainsCommand } from '../src/mta/local-domains.js';
import { KnownHostsFile } from '../src/transport/known-hosts.js';
import { SshTransport } from '../src/transport/ssh.js';

interface LabHost {
  name: string;
  address: string;
  mta: string;
  suite: string;
  debianVersion: string;
  expected: Record<string, unknown>;
}

const labDir = resolve(process.argv[2] ?? '.lab');
const outDir = resolve(process.argv[3] ?? 'test/fixtures/lab');
const { hosts } = JSON.parse(await readFile(join(labDir, 'hosts.json'), 'utf8')) as { hosts: LabHost[] };
const knownHosts = new KnownHostsFile(join(labDir, 'known_hosts'));
const suffix = process.argv[4] ?? '';

for (const h of hosts) {
  const t = new SshTransport({
    host: h.address,
    port: 22,
    user: 'root',
    privateKeyFile: join(labDir, 'id_ed25519'),
    knownHosts,
    agentSocket: '',
  });
  const dir = join(outDir, h.name + suffix);
  await mkdir(dir, { recursive: true });
  const detect = await t.exec(DETECT_COMMAND, { timeoutMs: 30_000 });
  const d = parseDetect(detect.stdout);
  if (d.mta !== h.mta) throw new Error(`${h.name}: detected ${d.mta}, lab says ${h.mta}`);
  const adapter = getAdapter(d.mta);
  const plan = (adapter.attributedQueue ?? adapter.queue)({ binary: d.binary, vars: {} });
  const queue = await t.exec(plan.command, { timeoutMs: 120_000 });
  const log = await t.exec(logReadCommand(d.mta, Math.floor(Date.now() / 1000) - 2 * 86400), { timeoutMs: 120_000 });
  // The MTA's own local domains (the lab's lists are literal: no second round trip to record).
  const ld = await t.exec(localDomainsCommand(d.mta, { binary: d.binary, vars: {} }), { timeoutMs: 30_000 });
  await t.close();
  if (queue.code !== 0 || log.code !== 0)
    throw new Error(`${h.name}: queue exit ${queue.code}, log exit ${log.code}: ${queue.stderr}${log.stderr}`);
  await writeFile(join(dir, 'detect.out'), detect.stdout);
  await writeFile(join(dir, 'queue.out'), queue.stdout);
  await writeFile(join(dir, 'log.out'), log.stdout);
  await writeFile(join(dir, 'local-domains.out'), ld.stdout);
  const meta = {
    host: h.name + suffix,
    mta: h.mta,
    suite: h.suite,
    debianVersion: h.debianVersion,
    recordedAt: new Date().toISOString(),
    binary: d.binary,
    logFiles: log.stdout
      .split('\n')
      .filter((l) => l.startsWith(FILE_MARKER))
      .map((l) => l.slice(FILE_MARKER.length).trim()),
    // A suffixed recording is a later state: the seeded counts do not apply to it.
    ...(suffix ? { state: suffix.replace(/^-/, '') } : { expected: h.expected }),
  };
  await writeFile(join(dir, 'scan-meta.json'), JSON.stringify(meta, null, 2) + '\n');
  console.log(`${h.name}: detect ${detect.stdout.length} B, queue ${queue.stdout.length} B, log ${log.stdout.length} B`);
}
