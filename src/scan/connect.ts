// HostSpec → Transport: the connection plugin choice (ssh or local), with shared host-key settings.
import type { HostSpec } from '../inventory/types.js';
import type { KnownHostsFile } from '../transport/known-hosts.js';
import { LocalTransport } from '../transport/local.js';
import { SshTransport, type HostKeyPolicy } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';

export interface ConnectSettings {
  knownHosts: KnownHostsFile;
  hostKeyPolicy: HostKeyPolicy;
  connectTimeoutMs: number;
}

export function transportFor(host: HostSpec, s: ConnectSettings): Transport {
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
