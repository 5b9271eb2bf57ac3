// The inventory model: Ansible-compatible hosts and groups, resolved to what mailsweep needs.

import type { MtaName } from '../mta/types.js';

/** An SSH bastion the connection goes through (ssh -J). */
export interface JumpHost {
  host: string;
  port: number;
  user: string;
  privateKeyFile?: string;
}

export interface HostSpec {
  /** Inventory hostname (what patterns match). */
  name: string;
  /** ansible_host, else the inventory hostname. */
  address: string;
  /** ansible_port, default 22. */
  port: number;
  /** ansible_user, default 'root'. */
  user: string;
  /** ansible_ssh_private_key_file: ~ expanded, relative paths resolved against the inventory file's directory. */
  privateKeyFile?: string;
  /** ansible_connection: ssh|paramiko|smart → 'ssh', local → 'local', any other plugin → 'unsupported'. */
  connection: 'ssh' | 'local' | 'unsupported';
  /** ansible_become (yes/no/true/false accepted, as Ansible does). */
  become: boolean;
  /** ansible_become_user, default 'root'. */
  becomeUser: string;
  /** mailsweep_jump "user@host:port", or ProxyJump / -J / ProxyCommand "ssh -W" in ansible_ssh_common_args. */
  jump?: JumpHost;
  /** Var `mta`; undefined means auto-detect. */
  mta?: MtaName;
  /** Queue size thresholds (vars queue_warn / queue_crit, defaults 75 / 100, crit >= warn). */
  queueWarn: number;
  queueCrit: number;
  /** Every group the host belongs to, 'all' and ancestors included, in precedence order (lowest first). */
  groups: string[];
  /** All merged vars, host vars winning; values as written (templates unresolved, except in rule settings). */
  vars: Record<string, unknown>;
  /** Where the host is first defined. */
  source: { file: string; line: number };
}

export interface Inventory {
  file: string;
  /** In inventory order (first appearance in the file). */
  hosts: HostSpec[];
  /** Group → host names, children included recursively, in inventory order. Always has 'all' and 'ungrouped'. */
  groups: Record<string, string[]>;
}

/** What ~/.ssh/config says for one destination (ssh-config.ts); inventory vars win over it. */
export interface SshHostConfig {
  hostname?: string;
  user?: string;
  port?: number;
  identityFile?: string;
  proxyJump?: string;
}

/**
 * What a host's connection falls back to when its inventory vars do not say: the command line
 * (-u, --private-key, -b), then the environment (ANSIBLE_*), then ansible.cfg — as Ansible, where
 * ansible_user and friends beat -u — and last ~/.ssh/config.
 */
export interface ConnectionDefaults {
  user?: string;
  privateKeyFile?: string;
  become?: boolean;
  becomeUser?: string;
  sshConfig?: (host: string) => SshHostConfig;
}
