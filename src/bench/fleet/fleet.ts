// The benchmark fleet: N real OpenSSH sshd, each on its own loopback address with its own host key
// (cached), key-only root login, and a PATH whose `exim` answers from a recorded real server
// (test/fixtures/lab/bookworm-exim). Every sshd is started here and stopped here, by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { writeStubs, type StubTool } from '../../demo/fake-host.js';
import { hostAddress } from './args.js';
import { renderSshdConfig } from './sshd-config.js';

export const SSHD = '/usr/sbin/sshd';
/** A recorded Debian 12 exim host with a hijacked account: 339 queued messages. */
export const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/lab/bookworm-exim/', import.meta.url));
/** Client options every peer gets: the kex ssh2 uses (OpenSSH's default post-quantum one would flatter us). */
export const KEX = 'curve25519-sha256';

export interface BenchFleet {
  dir: string;
  keyPath: string;
  knownHostsPath: string;
  inventoryPath: string;
  psshHostsPath: string;
  /** Host names (inventory) and their addresses, in order. */
  names: string[];
  addresses: string[];
  port: number;
  /** What `exim -bpc; exim -bp` prints on every host. */
  expectedListing: string;
  expectedTotal: number;
  /** PIDs of the sshd listeners started. */
  listeners(): number[];
  stop(): Promise<void>;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
}

/** An ed25519 key pair at `path` (+ .pub), generated once and kept in the cache. */
function cachedKey(path: string): string {
  if (!existsSync(path) || !existsSync(`${path}.pub`)) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/**
 * The recorded spool -H envelopes, rebuilt as files from the recorded spool dump (the awk's "|"
 * lines): the full attribution scan then runs exim's real find + awk over 339 real envelopes.
 */
export function spoolFilesFromDump(queueOut: string): Map<string, string> {
  const files = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  let inSpool = false;
  const flush = () => {
    if (name) files.set(name, `${lines.join('\n')}\n\n`);
    name = null;
    lines = [];
  };
  for (const line of queueOut.split('\n')) {
    if (line.startsWith('__MAILSWEEP_RC__ spooldir')) inSpool = true;
    else if (!inSpool) continue;
    else if (line.startsWith('__MAILSWEEP_H__ ')) {
      flush();
      name = line.slice('__MAILSWEEP_H__ '.length).replace(/^.*\//, '');
      if (!/^[0-9A-Za-z-]+-H$/.test(name)) throw new Error(`recorded spool dump: odd file name ${JSON.stringify(name)}`);
    } else if (line.startsWith('__MAILSWEEP_RC__ spool')) {
      flush();
      break;
    } else if (name && line.startsWith('|')) lines.push(line.slice(1));
    else if (name && line !== '') throw new Error(`recorded spool dump: line not rebuilt: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return files;
}

async function stubsFor(dir: string, attribution: boolean): Promise<string> {
  const exim: StubTool = {
    name: 'exim',
    cases: { '-bpc': { file: join(FIXTURE, 'exim-bpc.txt') }, '-bp': { file: join(FIXTURE, 'exim-bp.txt') } },
  };
  const tools: StubTool[] = [exim];
  if (attribution) {
    const spool = join(dir, 'spool');
    mkdirSync(join(spool, 'input'), { recursive: true });
    for (const [name, body] of spoolFilesFromDump(readFileSync(join(FIXTURE, 'queue.out'), 'utf8')))
      writeFileSync(join(spool, 'input', name), body);
    exim.cases['-bP spool_directory'] = { text: `spool_directory = ${spool}\n` };
    const ld = readFileSync(join(FIXTURE, 'local-domains.out'), 'utf8').split('\n');
    exim.cases['-bP primary_hostname +local_domains +relay_to_domains'] = { text: ld.slice(1, -2).join('\n') + '\n' };
    // The server's clock as recorded, so the log window ("today") and queue ages agree with the recording.
    const now = /^__MAILSWEEP_LOGNOW__ (\d+ [+-]\d{4})$/m.exec(readFileSync(join(FIXTURE, 'log.out'), 'utf8'))?.[1];
    if (!now) throw new Error(`${join(FIXTURE, 'log.out')}: no recorded clock line`);
    tools.push({ name: 'date', cases: { '+%s %z': { text: `${now}\n` } } });
  }
  return writeStubs(dir, tools);
}

/** Every sshd this process started and that has not exited: a signal mid-start stops them too. */
const started = new Set<ChildProcess>();

/** SIGTERM each by PID, SIGKILL after 5 s. */
async function stopSshd(children: readonly ChildProcess[]): Promise<void> {
  const live = children.filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    live.map(
      (c) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            c.kill('SIGKILL');
            resolve();
          }, 5_000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}

/** Stop every sshd started here, whether or not its fleet finished starting. */
export function stopAllSshd(): Promise<void> {
  return stopSshd([...started]);
}

/** Resolves when addr:port answers with an SSH banner; rejects after `ms`. */
function waitForBanner(address: string, port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect({ host: address, port });
      let got = '';
      let over = false; // an error and a timeout may both fire: one retry per attempt
      const retry = (why: string) => {
        if (over) return;
        over = true;
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd on ${address}:${port} did not answer within ${ms} ms (${why})`));
        else setTimeout(attempt, 100);
      };
      s.setTimeout(2_000, () => retry('timeout'));
      s.on('error', (e) => retry(e.message));
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (!over && got.startsWith('SSH-2.0-')) {
          over = true;
          s.destroy();
          resolve();
        }
      });
    };
    attempt();
  });
}

export async function startBenchFleet(o: {
  dir: string;
  cacheDir: string;
  hosts: number;
  port: number;
  attribution: boolean;
  /** Lines for other hosts put before the fleet's own in known_hosts. */
  knownHostsLines?: number;
  log: (m: string) => void;
}): Promise<BenchFleet> {
  const { dir, port } = o;
  const keysDir = join(o.cacheDir, 'hostkeys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  // Debian's sshd wants its privilege-separation directory (the ssh service would create it).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const keyPath = join(o.cacheDir, 'client_ed25519');
  const clientPub = cachedKey(keyPath);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, `${clientPub}\n`, { mode: 0o600 });
  const stubBin = await stubsFor(dir, o.attribution);
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (existsSync('/etc/skel/.bashrc')) copyFileSync('/etc/skel/.bashrc', join(home, '.bashrc'));

  const names: string[] = [];
  const addresses: string[] = [];
  const hostKeys: string[] = [];
  const t0 = Date.now();
  for (let i = 0; i < o.hosts; i++) {
    names.push(`mx${String(i + 1).padStart(4, '0')}`);
    addresses.push(hostAddress(i));
    hostKeys.push(cachedKey(join(keysDir, `host${i + 1}_ed25519`)));
  }
  o.log(`host keys ready (${o.hosts}, cached in ${keysDir}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const hostName = (a: string) => (port === 22 ? a : `[${a}]:${port}`);
  const knownHostsPath = join(dir, 'known_hosts');
  // Other hosts' lines first: a linear lookup (OpenSSH's) reads them all before the fleet's own.
  const padding = Array.from(
    { length: o.knownHostsLines ?? 0 },
    (_, i) => `other${i + 1}.example.invalid ${hostKeys[i % hostKeys.length]}\n`,
  );
  writeFileSync(knownHostsPath, [...padding, ...addresses.map((a, i) => `${hostName(a)} ${hostKeys[i]}\n`)].join(''));
  const psshHostsPath = join(dir, 'pssh-hosts');
  writeFileSync(psshHostsPath, addresses.map((a) => (port === 22 ? `${a}\n` : `${a}:${port}\n`)).join(''));

  // One inventory for mailsweep and Ansible: the same key, known_hosts, kex and strict checking.
  const inventory = {
    all: {
      vars: {
        ansible_user: 'root',
        ansible_ssh_private_key_file: keyPath,
        ansible_ssh_common_args: `-o KexAlgorithms=${KEX} -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHostsPath} -o BatchMode=yes`,
        mta: 'exim',
        ...(o.attribution ? { mail_log: join(FIXTURE, 'mainlog') } : {}),
      },
      children: {
        mail: {
          hosts: Object.fromEntries(
            names.map((n, i) => [n, { ansible_host: addresses[i], ...(port === 22 ? {} : { ansible_port: port }) }]),
          ),
        },
      },
    },
  };
  const inventoryPath = join(dir, 'inventory.yaml');
  writeFileSync(inventoryPath, '# Written by mailsweep bench:fleet.\n' + stringify(inventory));

  const sshdDir = join(dir, 'sshd');
  mkdirSync(sshdDir, { recursive: true });
  const children: ChildProcess[] = [];
  const stop = () => stopSshd(children);
  try {
    for (let i = 0; i < o.hosts; i++) {
      const conf = join(sshdDir, `${names[i]}.conf`);
      writeFileSync(
        conf,
        renderSshdConfig({
          address: addresses[i]!,
          port,
          hostKeyPath: join(keysDir, `host${i + 1}_ed25519`),
          pidFile: join(sshdDir, `${names[i]}.pid`),
          authorizedKeysFile: authorizedKeys,
          stubBin,
          home,
        }),
      );
      const c = spawn(SSHD, ['-D', '-f', conf, '-E', join(sshdDir, `${names[i]}.log`)], { stdio: 'ignore' });
      c.on('error', () => {});
      children.push(c);
      started.add(c);
      c.once('exit', () => started.delete(c));
    }
    for (let i = 0; i < o.hosts; i += 50) await Promise.all(addresses.slice(i, i + 50).map((a) => waitForBanner(a, port, 20_000)));
  } catch (e) {
    await stop();
    const dead = children.findIndex((c) => c.exitCode !== null);
    const log = dead >= 0 ? join(sshdDir, `${names[dead]}.log`) : null;
    const why = log && existsSync(log) ? `; ${log}: ${readFileSync(log, 'utf8').trim().slice(0, 500)}` : '';
    throw new Error(`${e instanceof Error ? e.message : String(e)}${why}`);
  }
  const listing = readFileSync(join(FIXTURE, 'exim-bpc.txt'), 'utf8') + readFileSync(join(FIXTURE, 'exim-bp.txt'), 'utf8');
  return {
    dir,
    keyPath,
    knownHostsPath,
    inventoryPath,
    psshHostsPath,
    names,
    addresses,
    port,
    expectedListing: listing,
    expectedTotal: Number(readFileSync(join(FIXTURE, 'exim-bpc.txt'), 'utf8').trim()),
    listeners: () => children.map((c) => c.pid).filter((p): p is number => p !== undefined),
    stop,
  };
}
