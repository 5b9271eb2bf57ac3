// How the SSH transport logs in: the agent, then key files, as OpenSSH does; never a password or a
// passphrase. An auth failure says what was tried and what to do about passphrase-protected keys.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AgentAuthMethod, PublicKeyAuthMethod } from 'ssh2';
import { isEncryptedKey, loadPrivateKey } from './private-keys.js';
import { quote } from './quote.js';

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export interface AuthPlan {
  methods: Array<AgentAuthMethod | PublicKeyAuthMethod>;
  /** Key files that need a passphrase: usable only through the agent. */
  encrypted: string[];
  /** What was tried, for an auth failure's message (paths and yes/no only, never a secret). */
  tried: string;
}

/** Auth methods in OpenSSH's order: the agent first, then the configured (or default) key files. */
export async function authMethods(ep: { user: string; privateKeyFile?: string }, agentSocket: string | undefined): Promise<AuthPlan> {
  const methods: Array<AgentAuthMethod | PublicKeyAuthMethod> = [];
  if (agentSocket) methods.push({ type: 'agent' as const, username: ep.user, agent: agentSocket });
  const files = ep.privateKeyFile ? [ep.privateKeyFile] : DEFAULT_KEYS.map((k) => join(homedir(), '.ssh', k)).filter((f) => existsSync(f));
  const encrypted: string[] = [];
  for (const f of files) {
    const key = await loadPrivateKey(f);
    if (isEncryptedKey(key)) encrypted.push(f);
    else methods.push({ type: 'publickey' as const, username: ep.user, key });
  }
  const keys = files.map((f) => (encrypted.includes(f) ? `${f} (encrypted: only through the agent)` : f)).join(', ');
  const tried = `ssh-agent ${agentSocket ? 'yes ($SSH_AUTH_SOCK)' : 'no ($SSH_AUTH_SOCK unset)'}; key files: ${keys || 'none'}; password: no (mailsweep logs in with keys only)`;
  return { methods, encrypted, tried };
}

/** What to do about passphrase-protected keys: mailsweep never asks for nor stores a passphrase. */
export function encryptedHint(encrypted: string[], agent: boolean): string {
  const list = encrypted.map((f) => quote(f)).join(' ');
  return agent
    ? `key ${list} is encrypted: is it loaded in the agent (ssh-add -l; ssh-add ${list})?`
    : `key ${list} is encrypted (passphrase) and no ssh-agent is running ($SSH_AUTH_SOCK unset): ` +
        `start one and load the key (eval "$(ssh-agent)"; ssh-add ${list}), then run mailsweep from that shell; ` +
        'or set ansible_ssh_private_key_file to a key without a passphrase';
}
