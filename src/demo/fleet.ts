// Start a fleet of fake hosts and write what a user would have: inventory, known_hosts, a key.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyPair, startFakeHost, type FakeHostSpec, type RunningFakeHost } from './fake-host.js';

export interface FakeFleet {
  dir: string;
  inventoryPath: string;
  knownHostsPath: string;
  keyPath: string;
  hosts: RunningFakeHost[];
  close(): Promise<void>;
}

export interface FleetHostEntry extends FakeHostSpec {
  /** Group in the written inventory (default "mail"). */
  group?: string;
  /** Extra inventory vars for the host (thresholds, mta…). */
  vars?: Record<string, unknown>;
  /** Leave the host out of known_hosts (to test unknown host keys). */
  unknownKey?: boolean;
}

export async function startFakeFleet(dir: string, entries: FleetHostEntry[]): Promise<FakeFleet> {
  await mkdir(dir, { recursive: true });
  const client = generateKeyPair();
  const keyPath = join(dir, 'id_ed25519');
  await writeFile(keyPath, client.private, { mode: 0o600 });
  // One host key for the whole fake fleet keeps start-up fast; known_hosts still binds it per host:port.
  const hostKey = generateKeyPair();
  const hosts: RunningFakeHost[] = [];
  try {
    for (const e of entries) hosts.push(await startFakeHost(e, { workDir: dir, hostKey, clientPublicKey: client.public }));
  } catch (err) {
    await Promise.all(hosts.map((h) => h.close()));
    throw err;
  }
  const groups: Record<string, { hosts: Record<string, unknown> }> = {};
  entries.forEach((e, i) => {
    const g = (groups[e.group ?? 'mail'] ??= { hosts: {} });
    g.hosts[e.name] = { ansible_host: '127.0.0.1', ansible_port: hosts[i]!.port, ...(e.vars ?? {}) };
  });
  const inventory = {
    all: {
      vars: { ansible_user: 'root', ansible_ssh_private_key_file: keyPath },
      children: groups,
    },
  };
  const inventoryPath = join(dir, 'inventory.yaml');
  await writeFile(inventoryPath, '# Written by mailsweep demo: fake hosts on loopback.\n' + stringify(inventory));
  const knownHostsPath = join(dir, 'known_hosts');
  const kh = hosts
    .filter((_, i) => !entries[i]!.unknownKey)
    .map((h) => `[127.0.0.1]:${h.port} ${h.hostKey}`)
    .join('\n');
  await writeFile(knownHostsPath, kh + '\n');
  return {
    dir,
    inventoryPath,
    knownHostsPath,
    keyPath,
    hosts,
    close: async () => {
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}
