// Measuring a tool run from outside: GNU time for wall, CPU and max RSS of the whole waited-for
// process tree (pssh and ansible fork an ssh per host: getrusage(RUSAGE_CHILDREN) counts them),
// a /proc sampler for the tree's summed PSS, and the fleet's sshd CPU from /proc before and after.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const PAGE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in seconds. */
  cpuS: number;
  rssBytes: number;
}

/** /proc/PID/stat, or null when the process is gone. The command name may hold spaces and ')'. */
export function parseProcStat(pid: number, text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): field n is f[n - 3].
  const n = (i: number) => Number(f[i - 3]);
  if (f.length < 22) return null;
  return { pid, ppid: n(4), cpuS: (n(14) + n(15) + n(16) + n(17)) / CLK_TCK, rssBytes: n(24) * PAGE };
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

function allProcs(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** The processes under `roots` (roots included). */
function tree(roots: readonly number[], procs: readonly ProcStat[]): ProcStat[] {
  const kids = new Map<number, ProcStat[]>();
  for (const p of procs) (kids.get(p.ppid) ?? kids.set(p.ppid, []).get(p.ppid)!).push(p);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const out: ProcStat[] = [];
  const todo = roots.map((r) => byPid.get(r)).filter((p): p is ProcStat => !!p);
  while (todo.length > 0) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(kids.get(p.pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds of the given sshd listeners: their own, what their reaped children (sessions, shells,
 * stubs) used, and any still-running descendants'.
 */
export function sshdCpuSeconds(listeners: readonly number[]): number {
  return tree(listeners, allProcs()).reduce((a, p) => a + p.cpuS, 0);
}

/** Whether any listener still has a child (a session closing): the CPU figure waits for them. */
export function sshdBusy(listeners: readonly number[]): boolean {
  return tree(listeners, allProcs()).length > listeners.length;
}

/** `Pss:` of /proc/PID/smaps_rollup in kB: forks sharing pages (ansible's) are not counted twice. */
export function parsePss(smapsRollup: string): number | null {
  const m = /^Pss:\s+(\d+) kB$/m.exec(smapsRollup);
  return m ? Number(m[1]) : null;
}

function pssBytes(p: ProcStat): number {
  try {
    return (parsePss(readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8')) ?? p.rssBytes / 1024) * 1024;
  } catch {
    return 0; // gone since the scan
  }
}

export interface Measured {
  exitCode: number | null;
  wallS: number;
  userS: number;
  sysS: number;
  maxRssKb: number;
  /** Peak of the tree's summed PSS, sampled. */
  treePssPeakBytes: number;
}

/** Parse GNU time's `-f '%e %U %S %M %x'` line (its last line: the command may have written above it). */
export function parseTimeOutput(text: string): { wallS: number; userS: number; sysS: number; maxRssKb: number; exit: number } {
  const last = text.trim().split('\n').pop() ?? '';
  const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+) (-?\d+)$/.exec(last.trim());
  if (!m) throw new Error(`GNU time wrote ${JSON.stringify(last.slice(0, 200))}, not "wall user sys maxrss exit"`);
  return { wallS: Number(m[1]), userS: Number(m[2]), sysS: Number(m[3]), maxRssKb: Number(m[4]), exit: Number(m[5]) };
}

/** Process groups of the tool runs under way (each led by the GNU time we spawned). */
const running = new Set<number>();

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/** Ctrl-C / SIGTERM: end the tool run under way, with every process it started. */
export function stopRunning(): void {
  for (const pid of running) killGroup(pid, 'SIGTERM');
}

/** Run `cmd args` under GNU time, stdout/stderr to files, sampling the tree's PSS. */
export async function runMeasured(
  cmd: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; stdoutFile: string; stderrFile: string; timeFile: string; sampleMs?: number; timeoutMs: number },
): Promise<Measured> {
  const out = openSync(opts.stdoutFile, 'w');
  const err = openSync(opts.stderrFile, 'w');
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    const t0 = process.hrtime.bigint();
    // Its own process group: stopRunning() ends the tool and all it forked (ssh per host) at once.
    const child = spawn(GNU_TIME, ['-f', '%e %U %S %M %x', '-o', opts.timeFile, '--', cmd, ...args], {
      env: opts.env,
      stdio: ['ignore', out, err],
      detached: true,
    });
    if (child.pid !== undefined) running.add(child.pid);
    child.once('exit', () => child.pid !== undefined && running.delete(child.pid));
    const sample = () => {
      if (child.pid === undefined) return;
      const pss = tree([child.pid], allProcs()).reduce((a, p) => a + pssBytes(p), 0);
      if (pss > peak) peak = pss;
    };
    timer = setInterval(sample, opts.sampleMs ?? 250);
    const killer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), opts.timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    }).finally(() => clearTimeout(killer));
    const wallNs = process.hrtime.bigint() - t0;
    const t = parseTimeOutput(readFileSync(opts.timeFile, 'utf8'));
    // GNU time's own wall has 10 ms resolution; ours includes its fork/exec (a few ms).
    return { exitCode: code, wallS: Number(wallNs) / 1e9, userS: t.userS, sysS: t.sysS, maxRssKb: t.maxRssKb, treePssPeakBytes: peak };
  } finally {
    clearInterval(timer);
    closeSync(out);
    closeSync(err);
  }
}
