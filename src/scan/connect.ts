// HostSpec → Transport: the connection plugin choice (ssh or local), with shared host-key settings.
import type { HostSpec } from '../inventory/types.js';
import { TransportError } from '../errors.js';
import { KnownHostsFile } from '../transport/known-hosts.js';
import { LocalTransport } from '../transport/local.js';
import { SshTransport, type HostKeyPolicy } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';

export interface ConnectSettings {
  knownHosts: KnownHostsFile;
  hostKeyPolicy: HostKeyPolicy;
  connectTimeoutMs: number;
  /** Let a host's `-o UserKnownHostsFile=…` (ansible_ssh_common_args) choose its file, as ssh would. */
  perHostKnownHosts?: boolean;
}

const USER_KNOWN_HOSTS = /(?:^|\s)-o\s*UserKnownHostsFile\s*[= ]\s*(?:"([^"]+)"|'([^']+)'|(\S+))/i;
const knownHostsFiles = new Map<string, KnownHostsFile>();

/** The known_hosts file a host's ssh arguments name, if any (first of several is used, as ssh does). */
export function userKnownHostsFile(vars: Record<string, unknown>): string | undefined {
  // Ansible runs ssh with common args before extra args, and ssh keeps the first value it sees.
  for (const key of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const v = vars[key];
    const m = typeof v === 'string' ? USER_KNOWN_HOSTS.exec(v) : null;
    const path = m ? (m[1] ?? m[2] ?? m[3])!.split(/\s+/)[0] : undefined;
    if (path) return path;
  }
  return undefined;
}

function knownHostsFor(host: HostSpec, s: ConnectSettings): KnownHostsFile {
  const path = s.perHostKnownHosts ? userKnownHostsFile(host.vars) : undefined;
  if (!path) return s.knownHosts;
  // The system-wide file is the run's (ssh reads it whatever UserKnownHostsFile says).
  const systemFile = s.knownHosts.systemFile;
  const key = `${path}\0${systemFile ?? ''}`;
  let f = knownHostsFiles.get(key);
  if (!f) knownHostsFiles.set(key, (f = new KnownHostsFile(path, { systemFile })));
  return f;
}

/** Stands in for a connection plugin mailsweep does not have: every command fails clearly. */
class UnsupportedTransport implements Transport {
  constructor(readonly describe: string) {}
  async exec(): Promise<never> {
    throw new TransportError('error', `ansible_connection ${this.describe} is not supported (mailsweep uses ssh or local)`);
  }
  async close(): Promise<void> {}
}

export function transportFor(host: HostSpec, s: ConnectSettings): Transport {
  if (host.connection === 'unsupported') return new UnsupportedTransport(JSON.stringify(String(host.vars.ansible_connection ?? '?')));
  if (host.connection === 'local') return new LocalTransport({ become: host.become, becomeUser: host.becomeUser });
  return new SshTransport({
    name: host.name,
    host: host.address,
    port: host.port,
    user: host.user,
    privateKeyFile: host.privateKeyFile,
    jump: host.jump,
    become: host.become,
    becomeUser: host.becomeUser,
    knownHosts: knownHostsFor(host, s),
    hostKeyPolicy: s.hostKeyPolicy,
    connectTimeoutMs: s.connectTimeoutMs,
  });
}
