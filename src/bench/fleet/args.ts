// `npm run bench:fleet` arguments: parsed and checked before anything is installed or started.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const FLEET_TOOLS = ['mailsweep', 'pssh', 'ansible'] as const;
export type FleetTool = (typeof FLEET_TOOLS)[number];

export interface FleetBenchArgs {
  /** Fleet sizes, run one after the other (several: the scale curve). */
  hosts: number[];
  forks: number;
  rounds: number;
  tools: FleetTool[];
  /** Full attribution scan for mailsweep (queue + spool envelopes + log + local domains + probe). */
  attribution: boolean;
  port: number;
  /** Keep the bench directory (configs, outputs, logs) instead of removing it. */
  keep: boolean;
  /** Write every raw figure here as JSON. */
  json: string | null;
  /** Extra known_hosts lines for other hosts, before the fleet's own (host-key lookup cost against file size). */
  knownHostsLines: number;
  /** Directory for a V8 CPU profile of each mailsweep run (its timings then include the profiler). */
  profile: string | null;
}

/** The largest fleet: 254 × 254 addresses 127.0.1-254.1-254 (no 127.0.0.x: other services live there). */
export const MAX_HOSTS = 254 * 254;

export const FLEET_USAGE = `usage: npm run bench:fleet -- --hosts N [--forks F] [--rounds R] [--tools mailsweep,pssh,ansible]
                          [--attribution] [--port P] [--known-hosts-lines L] [--profile DIR] [--json FILE] [--keep]
  --hosts N[,N…]   real sshd to start, each on its own 127.0.x.y (required; 1-${MAX_HOSTS}); several
                   sizes (e.g. 50,200,500,2000) run one after the other and add the scale curve
  --forks F        hosts at once, for every tool (default 100)
  --rounds R       alternating rounds; the table shows medians (default 3)
  --tools LIST     which tools, comma-separated (default all three)
  --attribution    mailsweep runs its full attribution scan instead of --no-attribution
  --port P         port every sshd listens on (default 22)
  --known-hosts-lines L
                   put L lines for other hosts before the fleet's in known_hosts (default 0)
  --profile DIR    write a V8 CPU profile of each mailsweep run to DIR (slows it: not for the table)
  --json FILE      write all raw figures as JSON
  --keep           keep the bench directory (configs, outputs, sshd logs)`;

export class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, dflt: number | null, max: number): number {
  if (raw === undefined) {
    if (dflt === null) throw new UsageError(`--${name} is required`);
    return dflt;
  }
  if (!/^[0-9]+$/.test(raw)) throw new UsageError(`--${name}: expected a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < 1 || n > max) throw new UsageError(`--${name}: ${n} is out of range 1-${max}`);
  return n;
}

function hostSizes(raw: string | undefined): number[] {
  const sizes = (raw ?? '').split(',').map((x) => positiveInt('hosts', raw === undefined ? undefined : x.trim(), null, MAX_HOSTS));
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function toolList(raw: string | undefined): FleetTool[] {
  if (raw === undefined) return [...FLEET_TOOLS];
  const names = raw.split(',').map((s) => s.trim());
  const bad = names.filter((t) => !(FLEET_TOOLS as readonly string[]).includes(t));
  if (bad.length > 0 || names.length === 0)
    throw new UsageError(`--tools: unknown ${bad.map((b) => JSON.stringify(b)).join(', ')}; choose from ${FLEET_TOOLS.join(', ')}`);
  const unique = [...new Set(names)] as FleetTool[];
  return FLEET_TOOLS.filter((t) => unique.includes(t));
}

/** Throws UsageError with a message naming the option. */
export function parseFleetBenchArgs(argv: string[]): FleetBenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        hosts: { type: 'string' },
        forks: { type: 'string' },
        rounds: { type: 'string' },
        tools: { type: 'string' },
        attribution: { type: 'boolean' },
        port: { type: 'string' },
        json: { type: 'string' },
        keep: { type: 'boolean' },
        'known-hosts-lines': { type: 'string' },
        profile: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.json === '') throw new UsageError('--json: expected a file name');
  if (values.profile === '') throw new UsageError('--profile: expected a directory');
  return {
    hosts: hostSizes(values.hosts),
    forks: positiveInt('forks', values.forks, 100, 10_000),
    rounds: positiveInt('rounds', values.rounds, 3, 100),
    tools: toolList(values.tools),
    attribution: values.attribution ?? false,
    port: positiveInt('port', values.port, 22, 65_535),
    keep: values.keep ?? false,
    json: values.json ?? null,
    profile: values.profile ? resolve(values.profile) : null,
    knownHostsLines:
      values['known-hosts-lines'] === undefined ? 0 : positiveInt('known-hosts-lines', values['known-hosts-lines'], 0, 1_000_000),
  };
}

/** Host i's loopback address: 127.0.1.1, 127.0.1.2, … 127.0.1.254, 127.0.2.1, … */
export function hostAddress(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_HOSTS) throw new RangeError(`host index ${i} out of range`);
  return `127.0.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;
}
