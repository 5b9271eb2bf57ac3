// SSH transport on ssh2: one lazily opened connection per host, reused for all its commands.
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import { wrapBecome } from './become.js';
import { LineSplitter } from './lines.js';
import { ignoreHostKeyAnnouncements } from './hostkeys-notice.js';
import { authMethods, encryptedHint } from './ssh-auth.js';
import { TransportError } from '../errors.js';
import { classifySshError } from './errors.js';
import type { KnownHostEntry } from './known-hosts-index.js';
import { hostKeyAlgorithmsFor, hostLookupName, KnownHostsFile, keyTypesOf, verdictFor, type HostKeyVerdict } from './known-hosts.js';
import { quote } from './quote.js';
import type { ExecOptions, ExecResult, Transport } from './types.js';

export type HostKeyPolicy = 'strict' | 'accept-new';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  privateKeyFile?: string;
}

export interface SshOptions extends SshEndpoint {
  /** Inventory name, also looked up in known_hosts (as OpenSSH does with HostKeyAlias). */
  name?: string;
  jump?: SshEndpoint;
  become?: boolean;
  becomeUser?: string;
  knownHosts: KnownHostsFile;
  hostKeyPolicy?: HostKeyPolicy;
  connectTimeoutMs?: number;
  /** ssh-agent socket; defaults to $SSH_AUTH_SOCK. Set to '' to disable the agent. */
  agentSocket?: string;
}

const MAX_STDERR = 64 * 1024;

/** "FILE line 2,5" per file, in order (the user's file, then the system-wide one). */
function knownAtText(lines: number[], files: string[] | undefined, fallback: string): string {
  const byFile = new Map<string, number[]>();
  lines.forEach((line, i) => {
    const f = files?.[i] || fallback;
    byFile.set(f, [...(byFile.get(f) ?? []), line]);
  });
  return [...byFile].map(([f, l]) => `${f} line ${l.join(',')}`).join('; ');
}

type Changed = Extract<HostKeyVerdict, { kind: 'changed' }>;

/**
 * How to forget the stale key, as OpenSSH names it: `[host]:port` off port 22, the file it is in
 * (not always ~/.ssh/known_hosts), one command per name that has a disagreeing line.
 */
export function forgetCommands(
  v: Changed,
  lookups: readonly string[],
  entriesFor: (name: string) => readonly KnownHostEntry[],
  knownHostsPath: string,
): string {
  const stale = v.knownAt.map((line, i) => `${v.knownIn?.[i] || knownHostsPath}\0${line}`);
  const cmds = new Set<string>();
  for (const name of lookups)
    for (const e of entriesFor(name)) {
      const file = e.file || knownHostsPath;
      if (!e.marker && stale.includes(`${file}\0${e.line}`)) cmds.add(`ssh-keygen -f ${quote(file)} -R ${quote(name)}`);
    }
  if (!cmds.size) for (const name of lookups) cmds.add(`ssh-keygen -f ${quote(knownHostsPath)} -R ${quote(name)}`);
  return [...cmds].join('; ');
}

function hostKeyError(v: HostKeyVerdict, where: string, forget: (v: Changed) => string, knownHostsPath: string): TransportError {
  if (v.kind === 'unknown')
    return new TransportError(
      'hostkey-unknown',
      `${where}: host key not in ${knownHostsPath} (${v.keyType} ${v.fingerprint}); ` +
        `check the fingerprint on the server (ssh-keygen -lf /etc/ssh/ssh_host_${v.keyType.replace(/^ssh-/, '').replace(/-.*$/, '')}_key.pub), ` +
        `then run again with --accept-new-hostkeys to record it`,
    );
  if (v.kind === 'revoked')
    return new TransportError('hostkey-changed', `${where}: host key ${v.fingerprint} is REVOKED (${v.file ?? knownHostsPath}:${v.line})`);
  if (v.kind === 'changed')
    return new TransportError(
      'hostkey-changed',
      `${where}: HOST KEY CHANGED: server offers ${v.keyType} ${v.fingerprint}, ${knownAtText(v.knownAt, v.knownIn, knownHostsPath)} has another. ` +
        `Possible man-in-the-middle; if the server was reinstalled, remove the old line (${forget(v)})`,
    );
  return new TransportError('error', `${where}: host key check failed`);
}

export class SshTransport implements Transport {
  readonly describe: string;
  private conn: Promise<Client> | null = null;
  private clients: Client[] = [];
  private closed = false;

  constructor(private readonly opts: SshOptions) {
    this.describe = `ssh://${opts.user}@${opts.host}:${opts.port}`;
  }

  private async open(ep: SshEndpoint, names: string[], sock?: Duplex): Promise<Client> {
    const timeout = this.opts.connectTimeoutMs ?? 10_000;
    const where = `${ep.user}@${ep.host}:${ep.port}`;
    const index = await this.opts.knownHosts.index();
    const lookups = names.map((n) => hostLookupName(n, ep.port));
    // One indexed lookup per host; at verify time only lines appended since (accept-new) are checked.
    const seen = index.size;
    const forHost = index.match(lookups);
    const types = keyTypesOf(forHost);
    const agentSocket = this.opts.agentSocket ?? process.env.SSH_AUTH_SOCK;
    const { methods, encrypted, tried } = await authMethods(ep, agentSocket);
    // Nothing that could log in: said before connecting, with what to do.
    if (methods.length === 0)
      throw new TransportError(
        'auth-failed',
        encrypted.length
          ? `${where}: ${encryptedHint(encrypted, false)}`
          : `${where}: no ssh-agent and no private key (set ansible_ssh_private_key_file)`,
      );
    let verdict: HostKeyVerdict | null = null;

    const client = new Client();
    this.clients.push(client);
    const config: ConnectConfig = {
      host: ep.host,
      port: ep.port,
      username: ep.user,
      sock,
      readyTimeout: timeout,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      // Offer the key types we already know first, so a host with several keys presents a known one.
      algorithms: types.length
        ? {
            serverHostKey: [...hostKeyAlgorithmsFor(types), 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256'].filter(
              (a, i, all) => all.indexOf(a) === i,
            ) as never,
          }
        : undefined,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        verdict = verdictFor([...forHost, ...index.matchSince(lookups, seen)], key);
        if (verdict.kind === 'match') return verify(true);
        if (verdict.kind === 'unknown' && this.opts.hostKeyPolicy === 'accept-new') {
          this.opts.knownHosts.add(hostLookupName(ep.host, ep.port), key).then(
            () => verify(true),
            () => verify(false),
          );
          return;
        }
        verify(false);
      },
      authHandler: methods.slice() as never,
    };

    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      // A permanent listener: ssh2 may emit several errors for one failure, and later ones
      // (connection lost mid-command) reach pending exec calls through the 'close' event.
      client.on('error', (err) => {
        if (settled) return;
        settled = true;
        client.end();
        if (verdict && verdict.kind !== 'match' && !(verdict.kind === 'unknown' && this.opts.hostKeyPolicy === 'accept-new'))
          return reject(
            hostKeyError(
              verdict,
              where,
              (changed) => forgetCommands(changed, lookups, (n) => index.match([n]), this.opts.knownHosts.path),
              this.opts.knownHosts.path,
            ),
          );
        const e = classifySshError(err, where, timeout);
        if (e.kind !== 'auth-failed') return reject(e);
        const hint = encrypted.length ? `; ${encryptedHint(encrypted, !!agentSocket)}` : '';
        reject(new TransportError('auth-failed', `${e.message}; tried as ${ep.user}: ${tried}${hint}`));
      });
      client.once('ready', () => {
        settled = true;
        resolve(client);
      });
      client.once('close', () => {
        if (settled) return;
        settled = true;
        reject(new TransportError('unreachable', `${where}: connection closed during the SSH handshake`));
      });
      client.connect(config);
      ignoreHostKeyAnnouncements(client);
    });
  }

  private async connect(): Promise<Client> {
    const o = this.opts;
    const names = [o.name, o.host].filter((n): n is string => !!n);
    if (!o.jump) return this.open(o, names);
    const jump = await this.open(o.jump, [o.jump.host]);
    const sock = await new Promise<Duplex>((resolve, reject) =>
      jump.forwardOut('127.0.0.1', 0, o.host, o.port, (err, stream) =>
        err
          ? reject(new TransportError('unreachable', `via jump host ${o.jump!.host}: cannot reach ${o.host}:${o.port} (${err.message})`))
          : resolve(stream),
      ),
    );
    return this.open(o, names, sock);
  }

  private client(): Promise<Client> {
    if (this.closed) return Promise.reject(new TransportError('error', `${this.describe}: connection closed`));
    if (!this.conn) {
      this.conn = this.connect();
      this.conn.catch(() => {}); // the rejection is delivered to the caller of exec()
    }
    return this.conn;
  }

  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const client = await this.client();
    const full = wrapBecome(cmd, {
      become: opts.become ?? this.opts.become ?? false,
      becomeUser: this.opts.becomeUser ?? 'root',
      user: this.opts.user,
    });
    const started = Date.now();
    const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(full, (err, stream) => {
        if (err) return reject(classifySshError(err, this.describe, 0));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let outBytes = 0;
        let errBytes = 0;
        let truncated = false;
        let settled = false;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          client.removeListener('close', onClose);
          fn();
        };
        const abandon = (why: TransportError) =>
          finish(() => {
            stream.close();
            reject(why);
          });
        const timer = opts.timeoutMs
          ? setTimeout(
              () =>
                abandon(
                  new TransportError(
                    'timeout',
                    `command did not finish within ${Math.round(opts.timeoutMs! / 1000)}s: ${cmd.slice(0, 80)}`,
                  ),
                ),
              opts.timeoutMs,
            )
          : undefined;
        const onAbort = () => abandon(new TransportError('timeout', 'aborted'));
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const onClose = () => finish(() => reject(new TransportError('unreachable', `${this.describe}: connection lost during a command`)));
        client.once('close', onClose);
        // Streamed output is capped only when the caller sets maxBytes (a log window may be larger than any buffer).
        const lines = opts.onLine ? new LineSplitter(opts.onLine, undefined, opts.maxBytes) : null;
        stream.on('data', (d: Buffer) => {
          if (lines) return lines.push(d);
          if (outBytes + d.length > maxBytes) {
            truncated = true;
            const room = maxBytes - outBytes;
            if (room > 0) out.push(d.subarray(0, room));
            outBytes = maxBytes;
            return;
          }
          out.push(d);
          outBytes += d.length;
        });
        stream.stderr.on('data', (d: Buffer) => {
          if (errBytes < MAX_STDERR) errs.push(d);
          errBytes += d.length;
        });
        stream.on('close', (code: number | null) =>
          finish(() => {
            lines?.end();
            resolve({
              code: code ?? null,
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(errs).toString('utf8').slice(0, MAX_STDERR),
              durationMs: Date.now() - started,
              truncated: truncated || lines?.truncated || undefined,
            });
          }),
        );
        if (opts.stdinWriter)
          opts.stdinWriter({
            write: (data) => void (settled || stream.write(data)),
            end: () => void (settled || stream.end()),
          });
        else if (opts.stdin !== undefined) stream.end(opts.stdin);
        else stream.end();
      });
    });
  }

  async openTcp(port: number, host = '127.0.0.1'): Promise<Duplex> {
    const client = await this.client();
    return new Promise((resolve, reject) =>
      client.forwardOut('127.0.0.1', 0, host, port, (err, stream) =>
        err
          ? reject(new TransportError('error', `${this.describe}: cannot open ${host}:${port} on the host (${err.message})`))
          : resolve(stream),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.clients) c.end();
    this.clients = [];
  }
}
