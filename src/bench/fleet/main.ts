// `npm run bench:fleet -- --hosts N …`: mailsweep against parallel-ssh and Ansible on a fleet of N
// real OpenSSH sshd on loopback, alternating for R rounds; a table of medians and mailsweep/peer
// ratios on stdout, progress on stderr, raw figures with --json. Not part of the test suite's
// pass/fail (timings are noisy); exit 0 when every run got every host's output complete, 1 when
// some did not, 3 for a bad command line or a missing tool that cannot be installed here.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLEET_USAGE, parseFleetBenchArgs, UsageError, type FleetBenchArgs, type FleetTool } from './args.js';
import { SSHD, startBenchFleet, stopAllSshd, type BenchFleet } from './fleet.js';
import { GNU_TIME, runMeasured, sshdBusy, sshdCpuSeconds, stopRunning } from './measure.js';
import { fitCurves, formatCurve, type SizeResult } from './curve.js';
import { formatTable, summarizeRuns, type ToolRun, type ToolSummary } from './stats.js';
import { invocation, verifyAnsible, verifyMailsweep, verifyPssh, type Verdict } from './tools.js';

const INSTALL = fileURLToPath(new URL('../../../scripts/bench-fleet/install.sh', import.meta.url));
const RUN_TIMEOUT_MS = 15 * 60_000;

const log = (m: string) => process.stderr.write(`bench:fleet: ${m}\n`);

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

function machine() {
  return {
    nproc: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    openssh: firstLine(SSHD, ['-V']),
    pssh: firstLine('parallel-ssh', ['--version']),
    ansible: firstLine('ansible', ['--version']),
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
  };
}

/** The round's order: rotated each round, so no tool always runs first (cold caches) or last. */
function order(tools: FleetTool[], round: number): FleetTool[] {
  const k = round % tools.length;
  return [...tools.slice(k), ...tools.slice(0, k)];
}

async function settle(listeners: number[]): Promise<void> {
  // Sessions still closing would leave their CPU out of the figure: wait for them (bounded).
  for (let i = 0; i < 50 && sshdBusy(listeners); i++) await new Promise((r) => setTimeout(r, 100));
}

async function runOnce(tool: FleetTool, round: number, f: BenchFleet, a: FleetBenchArgs): Promise<ToolRun> {
  const outDir = join(f.dir, 'runs', `r${round}-${tool}`);
  mkdirSync(outDir, { recursive: true });
  if (a.profile) mkdirSync(a.profile, { recursive: true });
  const inv = invocation(tool, f, { forks: a.forks, attribution: a.attribution, outDir, profileDir: a.profile });
  const listeners = f.listeners();
  await settle(listeners);
  const before = sshdCpuSeconds(listeners);
  const stdoutFile = join(outDir, 'stdout');
  const m = await runMeasured(inv.cmd, inv.args, {
    env: inv.env,
    stdoutFile,
    stderrFile: join(outDir, 'stderr'),
    timeFile: join(outDir, 'time'),
    timeoutMs: RUN_TIMEOUT_MS,
  });
  await settle(listeners);
  const after = sshdCpuSeconds(listeners);
  let v: Verdict;
  if (tool === 'pssh') v = verifyPssh(outDir, f);
  else if (tool === 'ansible') v = verifyAnsible(outDir, f);
  else v = verifyMailsweep(readFileSync(stdoutFile, 'utf8'), f);
  return {
    tool,
    round,
    wallS: m.wallS,
    cpuS: m.userS + m.sysS,
    userS: m.userS,
    sysS: m.sysS,
    maxRssMb: m.maxRssKb / 1024,
    treePssMb: m.treePssPeakBytes / 2 ** 20,
    sshdCpuS: after - before,
    hostsComplete: v.complete,
    hosts: f.names.length,
    exitCode: m.exitCode,
    failures: v.failures,
  };
}

function need(a: FleetBenchArgs): string[] {
  const missing: string[] = [];
  const onPath = (c: string) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', c]).status === 0;
  if (!existsSync(SSHD)) missing.push(SSHD);
  if (!existsSync(GNU_TIME)) missing.push(GNU_TIME);
  if (!onPath('ssh-keygen')) missing.push('ssh-keygen');
  if (a.tools.includes('pssh') && !onPath('parallel-ssh')) missing.push('parallel-ssh');
  if (a.tools.includes('ansible') && !onPath('ansible')) missing.push('ansible');
  return missing;
}

async function main(): Promise<number> {
  let a: FleetBenchArgs;
  try {
    a = parseFleetBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench:fleet: ${e.message}\n${FLEET_USAGE}\n`);
    return 3;
  }
  if (need(a).length > 0) {
    const r = spawnSync('sh', [INSTALL], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) return 3;
    const still = need(a);
    if (still.length > 0) {
      log(`still missing after ${INSTALL}: ${still.join(', ')}`);
      return 3;
    }
  }
  if (process.getuid?.() !== 0) {
    // sshd needs root to switch to the logged-in user (root here) and to use /run/sshd.
    log('the fleet logs in as root to real sshd: run as root');
    return 3;
  }
  if (a.tools.includes('mailsweep') && !existsSync(fileURLToPath(new URL('../../cli.js', import.meta.url)))) {
    log('dist/cli.js missing: npm run build first (npm run bench:fleet does)');
    return 3;
  }

  const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mailsweep', 'bench-fleet');
  const dir = mkdtempSync(join(tmpdir(), 'mailsweep-bench-fleet-'));
  let fleet: BenchFleet | null = null;
  let stopping = false;
  let cleaned: Promise<void> | null = null;
  // Once, whoever asks first (the end of the run, an error, a signal); the others wait for it.
  const cleanup = () =>
    (cleaned ??= (async () => {
      stopRunning();
      await stopAllSshd();
      if (a.keep) log(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    })());
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping the tool run and the fleet`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    const info = machine();
    const results: SizeResult[] = [];
    const allRuns: { hosts: number; runs: ToolRun[]; summaries: ToolSummary[]; loadAtStart: number[]; loadAtEnd: number[] }[] = [];
    let incomplete = 0;
    for (const hosts of a.hosts) {
      if (stopping) break;
      const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
      log(
        `${hosts} hosts, forks ${a.forks}, ${a.rounds} rounds of ${a.tools.join(', ')}${a.knownHostsLines ? `, ${a.knownHostsLines} other hosts' lines first in known_hosts` : ''}; ${info.nproc} × ${info.model}, load ${loadAtStart.join(' ')}`,
      );
      const t0 = Date.now();
      const sizeDir = join(dir, `hosts-${hosts}`);
      mkdirSync(sizeDir, { recursive: true });
      fleet = await startBenchFleet({
        dir: sizeDir,
        cacheDir,
        hosts,
        port: a.port,
        attribution: a.attribution,
        knownHostsLines: a.knownHostsLines,
        log,
      });
      log(`${hosts} sshd up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${sizeDir})`);
      const runs: ToolRun[] = [];
      for (let round = 1; round <= a.rounds && !stopping; round++)
        for (const tool of order(a.tools, round - 1)) {
          if (stopping) break;
          const r = await runOnce(tool, round, fleet, a);
          runs.push(r);
          log(
            `round ${round} ${tool.padEnd(9)} wall ${r.wallS.toFixed(2)} s  cpu ${r.cpuS.toFixed(2)} s  rss ${r.maxRssMb.toFixed(0)} MB pss ${r.treePssMb.toFixed(0)} MB  sshd ${r.sshdCpuS.toFixed(2)} s  ${r.hostsComplete}/${r.hosts} complete  exit ${r.exitCode}`,
          );
          for (const f of r.failures) log(`  incomplete: ${f}`);
        }
      const summaries = summarizeRuns(runs);
      // Another job on the machine moves every figure: the load says how much there was.
      const loadAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
      const labels = Object.fromEntries(
        a.tools.map((t) => [t, invocation(t, fleet!, { forks: a.forks, attribution: a.attribution, outDir: dir }).label]),
      );
      process.stdout.write(
        `${hosts} real sshd on 127.0.x.y:${a.port}, forks ${a.forks}, medians of ${a.rounds} alternating rounds; ` +
          (a.knownHostsLines ? `known_hosts with ${a.knownHostsLines} other hosts' lines first; ` : '') +
          `${info.nproc} × ${info.model}, ${info.memoryGiB} GiB, load ${loadAtStart[0]} at start, ${loadAtEnd[0]} at end; ${info.openssh}\n\n` +
          `${formatTable(summaries, labels)}\n\n`,
      );
      results.push({ hosts, summaries });
      allRuns.push({ hosts, runs, summaries, loadAtStart, loadAtEnd });
      incomplete += runs.filter((r) => r.hostsComplete !== r.hosts).length;
      await stopAllSshd();
      fleet = null;
    }
    if (results.length > 1) process.stdout.write(`Scale curve (client CPU, medians):\n\n${formatCurve(results)}\n`);
    if (a.json)
      writeFileSync(a.json, JSON.stringify({ args: a, machine: info, sizes: allRuns, curve: fitCurves(results) }, null, 2) + '\n');
    if (incomplete > 0) {
      log(`${incomplete} run(s) did not get every host's output complete: the figures above are not comparable`);
      return 1;
    }
    return 0;
  } catch (e) {
    // A run cut short by the signal fails on its way out: the signal's exit (130) is the answer.
    if (!stopping) throw e;
    await cleanup();
    return 130;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    log(`failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
