// ~/.ssh/config, read with the maintained `ssh-config` parser: what ssh itself would use for a
// destination (Host aliases, HostName, User, Port, IdentityFile, ProxyJump). Inventory vars and
// command-line options win, as the `-o` options Ansible passes beat the file for ssh.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import { ConfigError } from '../errors.js';
import { expandPath } from './paths.js';
import { parseJump } from './jump.js';
import type { ConnectionDefaults, JumpHost, SshHostConfig } from './types.js';

export type SshLookup = (host: string) => SshHostConfig;

export function defaultSshConfigPath(home = homedir()): string {
  return join(home, '.ssh', 'config');
}

/**
 * The lookup for `file` ("none" disables it). A missing default file is fine (most machines have
 * none); a file named with --ssh-config must exist.
 */
export function loadSshConfig(file: string | undefined, home = homedir()): SshLookup | undefined {
  if (file?.toLowerCase() === 'none') return undefined;
  const path = file === undefined ? defaultSshConfigPath(home) : expandPath(file, process.cwd());
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (file === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`${path}: cannot read ssh config: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let config: SSHConfig;
  try {
    config = SSHConfig.parse(inlineIncludes(text, dirname(path), home, 0));
  } catch (e) {
    throw new ConfigError(`${path}: cannot parse ssh config: ${(e as Error).message}`);
  }
  const cache = new Map<string, SshHostConfig>();
  return (host) => {
    let r = cache.get(host);
    if (!r) cache.set(host, (r = compute(config, host, path)));
    return r;
  };
}

/**
 * `Include` as ssh reads it, inlined where it stands (the parser does not follow it): relative
 * paths are under ~/.ssh, `*` and `?` in the file name glob, in name order; missing files are fine.
 */
function inlineIncludes(text: string, dir: string, home: string, depth: number): string {
  if (depth > 16) throw new ConfigError(`${dir}: ssh config Include nested more than 16 deep`);
  return text.replace(/^[ \t]*include[ \t]+(.+)$/gim, (_, list: string) =>
    list
      .trim()
      .split(/\s+/)
      .flatMap((p) => {
        const full = p.startsWith('~/') ? join(home, p.slice(2)) : isAbsolute(p) ? p : join(home, '.ssh', p);
        const base = basename(full);
        if (!/[*?]/.test(base)) return existsSync(full) ? [full] : [];
        const re = new RegExp(
          `^${base
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
        );
        let names: string[] = [];
        try {
          names = readdirSync(dirname(full)).filter((n) => re.test(n) && !n.startsWith('.'));
        } catch {
          // no such directory: nothing included, as ssh
        }
        return names.sort().map((n) => join(dirname(full), n));
      })
      .map((f) => inlineIncludes(readFileSync(f, 'utf8'), dirname(f), home, depth + 1))
      .join('\n'),
  );
}

function compute(config: SSHConfig, host: string, path: string): SshHostConfig {
  // Match exec would run a command: never from a scan.
  const c = config.compute(host, { ignoreCase: true, matchExec: false });
  const one = (k: string): string | undefined => {
    const v = c[k];
    const s = Array.isArray(v) ? v[0] : v;
    return s === undefined || s === '' ? undefined : s;
  };
  const out: SshHostConfig = {};
  const hostname = one('hostname');
  // %h is the destination as given, %% a percent sign (ssh's tokens; the others need a live session).
  if (hostname) out.hostname = hostname.replace(/%(%|h)/g, (_, t: string) => (t === 'h' ? host : '%'));
  const user = one('user');
  if (user) out.user = user;
  const port = one('port');
  if (port !== undefined) {
    const n = Number(port);
    if (!/^\d+$/.test(port) || n < 1 || n > 65535) throw new ConfigError(`${path}: Port for ${host}: expected 1-65535, got "${port}"`);
    out.port = n;
  }
  // ssh tries each IdentityFile and silently passes over missing ones: the first that exists.
  const keys = c.identityfile === undefined ? [] : Array.isArray(c.identityfile) ? c.identityfile : [c.identityfile];
  const key = keys
    .filter((k) => k.toLowerCase() !== 'none')
    .map((k) => expandPath(k.replace(/%d/g, homedir()).replace(/%h/g, host).replace(/%%/g, '%'), homedir()))
    .find((k) => existsSync(k));
  if (key) out.identityFile = key;
  const jump = one('proxyjump');
  if (jump && jump.toLowerCase() !== 'none') out.proxyJump = jump;
  return out;
}

/** A ProxyJump from the ssh config; the jump host's own Host entry applies to it, as ssh -J does. */
export function sshConfigJump(spec: string, defaults: ConnectionDefaults, bad: (m: string) => never): JumpHost {
  if (spec.includes(',')) bad(`several jump hosts (ProxyJump ${spec} in the ssh config) are not supported; set mailsweep_jump to one`);
  const bare = spec.trim().replace(/^ssh:\/\//, '');
  const j = parseJump(bare, '', bad);
  const c = defaults.sshConfig?.(j.host) ?? {};
  const explicitPort = /:\d+$/.test(bare);
  return {
    host: c.hostname ?? j.host,
    port: explicitPort ? j.port : (c.port ?? 22),
    user: j.user || c.user || defaults.user || 'root',
    ...(c.identityFile ? { privateKeyFile: c.identityFile } : {}),
  };
}
