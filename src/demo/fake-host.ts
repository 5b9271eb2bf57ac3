// A fake mail server for the demo, tests and benchmarks: a real SSH server (ssh2 on loopback)
// that runs each command with the real /bin/sh, where the MTA tools are stub scripts replaying
// output recorded from real servers. Misbehaving modes model dead, hung and garbage-spewing hosts.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import ssh2, { type ServerChannel } from 'ssh2';
import { RC_MARKER } from '../mta/sections.js';
import { DETECT_THEN_READ_TAIL } from '../scan/queue-read.js';

const { Server, utils } = ssh2;

/** Where a 'dead' host "listens": nothing does, so connecting is refused. */
export const DEAD_PORT = 1;

export type FakeMode =
  | 'normal'
  /** Nothing listens on the port: connection refused. */
  | 'dead'
  /** TCP accepts, never speaks SSH: handshake timeout. */
  | 'hang-handshake'
  /** SSH works, commands never return: command timeout. */
  | 'hang-command'
  /** TCP accepts and answers random bytes instead of SSH. */
  | 'garbage-banner'
  /** SSH works, every command prints random bytes. */
  | 'garbage-output'
  /** Rejects the client key. */
  | 'auth-reject';

/** One stub program: argument string (as "$*") → recorded file (or literal text). */
export interface StubTool {
  name: string;
  /** `sleep`: seconds the tool then hangs before exiting (a slow disk, a huge gzipped log). */
  cases: Record<string, { file?: string; text?: string; code?: number; sleep?: number }>;
}

/** What a host answered in process (FakeHostSpec.answer): a command's output and exit code. */
export interface CommandAnswer {
  stdout: string;
  stderr?: string;
  code: number;
}

/** A whole command answered from a recording: the first entry whose `match` occurs in the command. */
export interface ReplayEntry {
  match: string;
  file?: string;
  text?: string;
  code?: number;
}

export interface FakeHostSpec {
  name: string;
  mode: FakeMode;
  tools: StubTool[];
  /** Recorded outputs of mailsweep's own commands on a real server, tried before the shell. */
  replay?: ReplayEntry[];
  /**
   * A host that keeps state (src/demo/fake-exim.ts): every command and its whole stdin answered in
   * process, before the recordings and instead of the shell. Detection then the command on stdin
   * (the scan's one round trip) is two calls.
   */
  answer?: (command: string, stdin: string) => CommandAnswer;
  /** Run the shell as this user (the server process must be root): permission checks apply as on a server. */
  runAs?: { uid: number; gid: number };
}

export interface KeyPair {
  private: string;
  public: string;
}

export interface RunningFakeHost {
  name: string;
  port: number;
  /** OpenSSH public host key line body: "ssh-ed25519 AAAA…". */
  hostKey: string;
  /** Number of SSH connections accepted (tests check connection reuse). */
  connections(): number;
  close(): Promise<void>;
}

export function generateKeyPair(): KeyPair {
  // ssh2 1.17's generateKeyPairSync('ed25519') drops a leading zero byte of the public key about
  // once in 260 keys (a 31-byte key: "AAAAH…"), which its own parseKey then rejects as
  // "Malformed OpenSSH public key". Draw again until both halves parse.
  for (let i = 0; i < 100; i++) {
    const k = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(k.public) instanceof Error) && !(utils.parseKey(k.private) instanceof Error))
      return { private: k.private, public: k.public };
  }
  throw new Error('ssh2 could not generate a well-formed ed25519 key pair');
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** Write the stub scripts for a host; returns the bin dir to put first on PATH. */
export async function writeStubs(dir: string, tools: StubTool[]): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  for (const t of tools) {
    const lines = ['#!/bin/sh', 'case "$*" in'];
    for (const [args, c] of Object.entries(t.cases)) {
      const body = c.file ? `cat ${shellQuote(c.file)}` : `printf '%s' ${shellQuote(c.text ?? '')}`;
      const hang = c.sleep ? `; sleep ${Math.max(0, Math.floor(c.sleep))}` : '';
      lines.push(`  ${args === '*' ? '*' : shellQuote(args)}) ${body}${hang}; exit ${c.code ?? 0} ;;`);
    }
    lines.push(`  *) echo "${t.name}: this demo host does not support: $*" >&2; exit 64 ;;`, 'esac');
    const path = join(bin, t.name);
    await writeFile(path, lines.join('\n') + '\n');
    await chmod(path, 0o755);
  }
  return bin;
}

function listen(server: NetServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: NetServer, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function trackSockets(server: NetServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/** A stateful host's answer: the whole stdin first (a purge request comes on it), then one reply. */
function answerInProcess(answer: NonNullable<FakeHostSpec['answer']>, command: string, stream: ServerChannel): void {
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => void chunks.push(d));
  // A bug in the fake is the fake's failure, said as a server would: never a hung channel.
  const safely = (cmd: string, stdin: string): CommandAnswer => {
    try {
      return answer(cmd, stdin);
    } catch (e) {
      return { stdout: '', stderr: `fake host: ${(e as Error).message}\n`, code: 70 };
    }
  };
  const send = (out: CommandAnswer) => {
    if (out.stderr) stream.stderr.write(out.stderr);
    stream.write(out.stdout);
  };
  const finish = (out: CommandAnswer) => {
    send(out);
    stream.exit(out.code);
    stream.end();
  };
  const whenStdinEnds = (then: (stdin: string) => void) => {
    const go = () => then(Buffer.concat(chunks).toString('utf8'));
    if (stream.readableEnded) go();
    else stream.once('end', go);
  };
  if (command.includes(DETECT_THEN_READ_TAIL)) {
    // Detection first: the client picks the command it sends on stdin from what it detected.
    const detect = safely(command, '');
    send({ ...detect, stdout: `${detect.stdout}${RC_MARKER} detect ${detect.code}\n` });
    return whenStdinEnds((next) => finish(next.trim() === '' ? { stdout: '', code: 0 } : safely(next, '')));
  }
  whenStdinEnds((stdin) => finish(safely(command, stdin)));
}

export async function startFakeHost(
  spec: FakeHostSpec,
  opts: { workDir: string; hostKey: KeyPair; clientPublicKey: string },
): Promise<RunningFakeHost> {
  const hostPub = utils.parseKey(opts.hostKey.public);
  if (hostPub instanceof Error) throw hostPub;
  const hostKey = `${hostPub.type} ${hostPub.getPublicSSH().toString('base64')}`;

  if (spec.mode === 'dead') {
    // Port 1 (tcpmux, unused): below the ephemeral range, so no other fake host or test server
    // can be handed it later — a port taken and released could be, and the "dead" host answer.
    return { name: spec.name, port: DEAD_PORT, hostKey, connections: () => 0, close: async () => {} };
  }
  if (spec.mode === 'hang-handshake' || spec.mode === 'garbage-banner') {
    const server = createServer((sock) => {
      sock.on('error', () => {});
      if (spec.mode === 'garbage-banner') sock.end(randomBytes(512));
    });
    const sockets = trackSockets(server);
    const port = await listen(server);
    return { name: spec.name, port, hostKey, connections: () => 0, close: () => closeServer(server, sockets) };
  }

  const bin = await writeStubs(join(opts.workDir, spec.name), spec.tools);
  const allowed = utils.parseKey(opts.clientPublicKey);
  if (allowed instanceof Error) throw allowed;
  let connections = 0;
  const children = new Set<number>();
  const clients = new Set<{ end(): unknown }>();

  const server = new Server({ hostKeys: [opts.hostKey.private] }, (client) => {
    connections++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (spec.mode === 'auth-reject' || ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const ok = ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH());
      if (!ok) return ctx.reject(['publickey']);
      if (!ctx.signature) return ctx.accept();
      return allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      // Jump-host support (ssh -J): forward only to loopback, where the fake fleet lives.
      client.on('tcpip', (accept, reject, info) => {
        // Never into this machine's real services (its port 25 is not the fake host's).
        if ((info.destIP !== '127.0.0.1' && info.destIP !== 'localhost') || info.destPort < 1024) return reject();
        const upstream = connect(info.destPort, '127.0.0.1');
        upstream.once('connect', () => {
          const ch = accept();
          ch.pipe(upstream).pipe(ch);
          ch.on('close', () => upstream.destroy());
          upstream.on('close', () => ch.close());
        });
        upstream.once('error', () => reject());
      });
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, _reject, info) => {
          const stream = accept();
          if (spec.mode === 'hang-command') return; // never answers
          if (spec.mode === 'garbage-output') {
            stream.write(randomBytes(4096));
            stream.exit(0);
            return stream.end();
          }
          const recordingFor = (command: string) => spec.replay?.find((r) => command.includes(r.match));
          const replay = (rec: ReplayEntry, then: () => void) => {
            const body = rec.file ? createReadStream(rec.file) : null;
            if (!body) return (stream.write(rec.text ?? ''), then());
            body.on('error', (e) => {
              stream.stderr.write(`replay: ${e.message}\n`);
              stream.exit(1);
              stream.end();
            });
            body.on('end', then);
            body.pipe(stream, { end: false });
          };
          const finish = (code: number) => {
            stream.exit(code);
            stream.end();
          };
          if (spec.answer) return answerInProcess(spec.answer, info.command, stream);
          const rec = recordingFor(info.command);
          if (rec && info.command.includes(DETECT_THEN_READ_TAIL)) {
            // Detection, then the command the client sends on stdin, as the real shell would run them.
            let next = '';
            stream.on('data', (d: Buffer) => void (next += d.toString('utf8')));
            replay(rec, () => {
              stream.write(`${RC_MARKER} detect 0\n`);
              const answer = () => {
                if (next.trim() === '') return finish(0);
                const second = recordingFor(next);
                if (second) replay(second, () => finish(second.code ?? 0));
                else (stream.stderr.write('replay: no recording for the command sent on stdin\n'), finish(127));
              };
              if (stream.readableEnded) answer();
              else stream.once('end', answer);
            });
            return;
          }
          if (rec) return replay(rec, () => finish(rec.code ?? 0));
          // The real shell runs the real command line: quoting bugs show up here as they would on a server.
          const child = spawn('/bin/sh', ['-c', info.command], {
            env: { PATH: `${bin}:/usr/bin:/bin`, LC_ALL: 'C', HOME: join(opts.workDir, spec.name) },
            detached: true,
            ...(spec.runAs ? { uid: spec.runAs.uid, gid: spec.runAs.gid } : {}),
          });
          if (child.pid) children.add(child.pid);
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          stream.on('data', (d: Buffer) => child.stdin.write(d));
          stream.on('end', () => child.stdin.end());
          child.stdin.on('error', () => {});
          stream.on('close', () => {
            if (child.pid && children.has(child.pid)) {
              try {
                process.kill(-child.pid, 'SIGKILL');
              } catch {
                /* gone */
              }
            }
          });
          child.on('close', (code) => {
            if (child.pid) children.delete(child.pid);
            stream.exit(code ?? 255);
            stream.end();
          });
        });
      });
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return {
    name: spec.name,
    port,
    hostKey,
    connections: () => connections,
    close: async () => {
      for (const pid of children) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      for (const c of clients) c.end();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
