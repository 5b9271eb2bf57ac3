// `npm run bench`: host-key lookup per host, the old linear scan against the index, by known_hosts size.
import { createHmac } from 'node:crypto';
import { hostLookupName, KnownHostsIndex, keyTypesOf, parseKnownHosts, verdictFor } from '../transport/known-hosts.js';
import { linearKnownKeyTypes, linearVerifyHostKey } from './known-hosts-linear.js';

const key = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.alloc(36, 1)]);
const keyText = `ssh-ed25519 ${key.toString('base64')}`;

/** Host i: its inventory name and address, as the scan looks them up (port 22). */
function host(i: number): [string, string] {
  return [`mx${i}.example.com`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`];
}

/** Every `hashedEvery`-th host as `ssh-keyscan -H` writes it (a line per name, each its own salt); 0: none. */
function knownHosts(lines: number, hashedEvery: number): string {
  const out: string[] = [];
  for (let i = 0; out.length < lines; i++) {
    const [name, addr] = host(i);
    if (hashedEvery > 0 && i % hashedEvery === 0) {
      for (const n of [name, addr]) {
        const salt = Buffer.from(createHmac('sha1', 'bench').update(`${i}${n}`).digest());
        out.push(`|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(n).digest('base64')} ${keyText}`);
      }
    } else out.push(`${name},${addr} ${keyText}`);
  }
  return out.slice(0, lines).join('\n');
}

/** Microseconds per call, over at least `ms` milliseconds. */
function perCall(fn: (i: number) => void, ms = 300): number {
  const t0 = process.hrtime.bigint();
  let calls = 0;
  let elapsed = 0;
  do {
    fn(calls++);
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  } while (elapsed < ms);
  return (elapsed * 1000) / calls;
}

export function benchKnownHosts(): void {
  for (const hashedEvery of [0, 2]) {
    for (const lines of [10, 1_000, 10_000]) {
      const entries = parseKnownHosts(knownHosts(lines, hashedEvery));
      const hashed = entries.filter((e) => e.patterns.startsWith('|1|')).length;
      const hosts = hashedEvery ? Math.floor((lines * 2) / 3) : lines;
      const lookups = (i: number) => host((i * 7919) % hosts).map((n) => hostLookupName(n, 22));
      // What ssh.ts did per host before: key types to offer, then the verdict, each a full scan.
      const old = perCall((i) => {
        const names = lookups(i);
        linearKnownKeyTypes(entries, names);
        if (linearVerifyHostKey(entries, names, key).kind !== 'match') throw new Error('bench: old lookup missed');
      });
      const t0 = process.hrtime.bigint();
      const index = new KnownHostsIndex(entries);
      const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const now = perCall((i) => {
        const forHost = index.match(lookups(i));
        keyTypesOf(forHost);
        if (verdictFor(forHost, key).kind !== 'match') throw new Error('bench: indexed lookup missed');
      });
      const label = `known_hosts ${String(lines).padStart(6)} lines, ${String(hashed).padStart(5)} hashed`;
      console.log(
        `${label.padEnd(36)} old ${old.toFixed(1).padStart(9)} µs/host  new ${now.toFixed(1).padStart(8)} µs/host  (index built once: ${buildMs.toFixed(1)} ms)`,
      );
    }
  }
}
