// HostSpec → Transport: the connection plugin choice (ssh or local), with shared host-key settings.
import type { HostSpec } from '../inventory/types.js';
import { TransportError } from '../transport/errors.js';
import type { KnownHostsFile } from '../transport/known-hosts.js';
import { LocalTransport } from '../transport/local.js';
import { SshTransport, type HostKeyPolicy } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';

export interface ConnectSettings {
  knownHosts: KnownHostsFile;
  hostKeyPolicy: HostKeyPolicy;
  connectTimeoutMs: number;
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
    knownHosts: s.knownHosts,
    hostKeyPolicy: s.hostKeyPolicy,
    connectTimeoutMs: s.connectTimeoutMs,
  });
}
