// One benchmark host's sshd_config: key-only root login on its own loopback address, a PATH whose
// first directory holds the stub MTA tools, limits raised so 100+ concurrent clients are not refused.

export interface SshdHostConfig {
  address: string;
  port: number;
  hostKeyPath: string;
  pidFile: string;
  authorizedKeysFile: string;
  /** Prepended to the system PATH of every session (SetEnv: OpenSSH ≥ 8.7). */
  stubBin: string;
  /**
   * HOME of every session: a clean Debian root home (skel's .bashrc), not this machine's root's,
   * whose dotfiles (bash sources ~/.bashrc under sshd) would be run by every session and measured.
   */
  home: string;
}

/** sshd_config has no quoting we want to rely on: paths are plain (mkdtemp and the cache dir are). */
const PLAIN_PATH = /^\/[A-Za-z0-9._/+-]*$/;

function plain(what: string, path: string): string {
  if (!PLAIN_PATH.test(path)) throw new Error(`${what}: ${JSON.stringify(path)} has characters sshd_config would need quoted`);
  return path;
}

export function renderSshdConfig(c: SshdHostConfig): string {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(c.address)) throw new Error(`not a loopback address: ${JSON.stringify(c.address)}`);
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65_535) throw new Error(`bad port ${c.port}`);
  return [
    '# Written by mailsweep bench:fleet: one benchmark host, started as `sshd -D -f` and stopped by PID.',
    `ListenAddress ${c.address}:${c.port}`,
    `HostKey ${plain('HostKey', c.hostKeyPath)}`,
    `PidFile ${plain('PidFile', c.pidFile)}`,
    `AuthorizedKeysFile ${plain('AuthorizedKeysFile', c.authorizedKeysFile)}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // No PAM: no pam_env, no login records, nothing of the system's session stack.
    'UsePAM no',
    // The bench files live in a temp dir whose owner/modes sshd's checks need not vouch for.
    'StrictModes no',
    // Every tool opens up to --forks connections at once to 1 host per sshd, but the defaults
    // (10:30:100) would drop them under load on a slow machine: raised far past --forks.
    'MaxStartups 10000:30:20000',
    'MaxSessions 1000',
    'LoginGraceTime 120',
    `SetEnv PATH=${plain('stub bin', c.stubBin)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=${plain('home', c.home)}`,
    // mailsweep's auth-policy probe (attribution) asks for a forward to ports 25/587/465: refused here,
    // so it never reaches a real service of this machine.
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTTY yes',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'LogLevel ERROR',
    '',
  ].join('\n');
}
