// The three tools on the same fleet and the same remote command, and the check that every host's
// output came back complete. What a host sent is attacker-controlled in principle: reasons are
// passed through printable() before they reach the terminal.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printable } from '../../text/printable.js';
import type { FleetTool } from './args.js';
import { KEX, type BenchFleet } from './fleet.js';

export const REMOTE_COMMAND = 'exim -bpc; exim -bp';
const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));

export interface ToolInvocation {
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** How the table names it. */
  label: string;
}

export interface Verdict {
  complete: number;
  failures: string[];
}

const MAX_FAILURES = 5;

export function invocation(
  tool: FleetTool,
  f: BenchFleet,
  o: { forks: number; attribution: boolean; outDir: string; profileDir?: string | null },
): ToolInvocation {
  // Ansible refuses a non-UTF-8 locale; the same one for every tool.
  const env = { ...process.env, LC_ALL: 'C.UTF-8' };
  if (tool === 'mailsweep') {
    // A V8 CPU profile per run (--profile): where mailsweep's client CPU goes (open in Chrome DevTools).
    const prof = o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : [];
    const args = [
      ...prof,
      CLI,
      'scan',
      '-i',
      f.inventoryPath,
      '--known-hosts',
      f.knownHostsPath,
      '-f',
      String(o.forks),
      '--format',
      'json',
    ];
    if (!o.attribution) args.push('--no-attribution');
    return { cmd: process.execPath, args, env, label: `mailsweep scan${o.attribution ? '' : ' --no-attribution'}` };
  }
  if (tool === 'pssh') {
    const ssh = `-i ${f.keyPath} -o KexAlgorithms=${KEX} -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${f.knownHostsPath} -o BatchMode=yes`;
    return {
      cmd: 'parallel-ssh',
      args: [
        '-h',
        f.psshHostsPath,
        '-l',
        'root',
        '-p',
        String(o.forks),
        '-x',
        ssh,
        '-o',
        join(o.outDir, 'out'),
        '-e',
        join(o.outDir, 'err'),
        REMOTE_COMMAND,
      ],
      env,
      label: 'parallel-ssh',
    };
  }
  return {
    cmd: 'ansible',
    // --tree: a JSON file per host (as pssh's -o), read by verifyAnsible; the screen output goes to a file.
    args: ['all', '-i', f.inventoryPath, '-m', 'raw', '-a', REMOTE_COMMAND, '-f', String(o.forks), '--tree', join(o.outDir, 'tree')],
    env: {
      ...env,
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      // No ControlPersist master left behind (its CPU would escape the measurement), no compression
      // (the peers do not compress either): the defaults are "-C -o ControlMaster=auto -o ControlPersist=60s".
      ANSIBLE_SSH_ARGS: '-o ControlMaster=no',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
      ANSIBLE_HOME: join(f.dir, 'ansible-home'),
      ANSIBLE_LOCAL_TEMP: join(f.dir, 'ansible-home', 'tmp'),
    },
    label: 'ansible -m raw',
  };
}

/** Where two outputs part: line number and both lines (quoted), for a failure message. */
export function firstDifference(got: string, want: string): string {
  const g = got.split('\n');
  const w = want.split('\n');
  for (let i = 0; i < Math.max(g.length, w.length); i++)
    if (g[i] !== w[i]) return `line ${i + 1}: got ${JSON.stringify(g[i] ?? '(end)')}, expected ${JSON.stringify(w[i] ?? '(end)')}`;
  return 'identical';
}

function fail(v: Verdict, host: string, why: string): void {
  if (v.failures.length < MAX_FAILURES) v.failures.push(`${host}: ${printable(why.replace(/\s+/g, ' ').trim(), { max: 300 })}`);
}

/** mailsweep: the JSON report says every host is ok with the whole queue (339 messages, -bpc agreeing). */
export function verifyMailsweep(stdout: string, f: BenchFleet): Verdict {
  const v: Verdict = { complete: 0, failures: [] };
  let report: {
    hosts?: { name: string; status: string; reason?: string; queue: { total: number; reportedTotal: number | null } | null }[];
  };
  try {
    report = JSON.parse(stdout) as typeof report;
  } catch (e) {
    fail(v, '(all)', `stdout is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    return v;
  }
  const byName = new Map((report.hosts ?? []).map((h) => [h.name, h]));
  for (const name of f.names) {
    const h = byName.get(name);
    if (!h) fail(v, name, 'not in the report');
    else if (h.status !== 'ok') fail(v, name, `${h.status}: ${h.reason ?? ''}`);
    else if (h.queue?.total !== f.expectedTotal || h.queue.reportedTotal !== f.expectedTotal)
      fail(v, name, `queue ${h.queue?.total}/${h.queue?.reportedTotal}, expected ${f.expectedTotal}`);
    else v.complete++;
  }
  return v;
}

/** parallel-ssh: every host's output file holds the whole listing, byte for byte. */
export function verifyPssh(outDir: string, f: BenchFleet): Verdict {
  const v: Verdict = { complete: 0, failures: [] };
  f.addresses.forEach((a) => {
    const file = [join(outDir, 'out', a), join(outDir, 'out', `${a}:${f.port}`)].find((p) => existsSync(p));
    if (!file) return fail(v, a, 'no output file');
    const got = readFileSync(file, 'utf8');
    if (got !== f.expectedListing) {
      const err = [join(outDir, 'err', a), join(outDir, 'err', `${a}:${f.port}`)].find((p) => existsSync(p));
      const errText = err ? `; stderr: ${readFileSync(err, 'utf8')}` : '';
      return fail(
        v,
        a,
        `output ${got.length} bytes, expected ${f.expectedListing.length}: ${firstDifference(got, f.expectedListing)}${errText}`,
      );
    }
    v.complete++;
  });
  return v;
}

/** ansible: rc 0 per host, and the whole listing in its stdout (the --tree file of each host). */
export function verifyAnsible(outDir: string, f: BenchFleet): Verdict {
  const v: Verdict = { complete: 0, failures: [] };
  // raw runs with a tty (ssh -tt): CR LF line ends.
  const want = f.expectedListing.trimEnd();
  for (const name of f.names) {
    const file = join(outDir, 'tree', name);
    if (!existsSync(file)) {
      fail(v, name, 'no --tree output');
      continue;
    }
    let h: { rc?: number; stdout?: string; msg?: string; unreachable?: boolean };
    try {
      h = JSON.parse(readFileSync(file, 'utf8')) as typeof h;
    } catch (e) {
      fail(v, name, `--tree output is not JSON: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    if (h.rc !== 0) fail(v, name, `rc ${h.rc}${h.unreachable ? ' (unreachable)' : ''}: ${h.msg ?? ''}`);
    else {
      const got = (h.stdout ?? '').replace(/\r\n/g, '\n').trimEnd();
      if (got === want) v.complete++;
      else fail(v, name, `rc 0 but stdout is ${h.stdout?.length ?? 0} bytes, not the listing: ${firstDifference(got, want)}`);
    }
  }
  return v;
}
