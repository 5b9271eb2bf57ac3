// A throwaway PostgreSQL cluster per test file: initdb into a temp dir, pg_ctl start on a unix
// socket in that dir and 127.0.0.1 on a free port, stopped by its postmaster PID in afterAll.
// Never the system's service. PostgreSQL refuses to run as root: as root, the cluster belongs to
// the `postgres` system user (the Debian package creates it), falling back to `nobody`, and every
// server command runs through `runuser -u USER --` (util-linux, no PAM session, no shell).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const SUPERUSER = 'mailsweep';
export const PASSWORD = 'pg-test-secret-7f3a9c';

/** initdb and pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/<v>/bin (Debian), else PATH. */
export function pgBin(tool: 'initdb' | 'pg_ctl'): string {
  if (process.env.PG_BIN) return join(process.env.PG_BIN, tool);
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', tool)))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length) return join(base, versions[0]!, 'bin', tool);
  return tool;
}

function idOf(user: string): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  return r.status === 0 && g.status === 0 ? { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) } : null;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface PgCluster {
  dir: string;
  port: number;
  /** postgres://mailsweep@127.0.0.1:PORT/DB (no password: give PGPASSWORD / MAILSWEEP_PG_PASSWORD). */
  url(db: string): string;
  /** A fresh database. */
  createDb(name: string): Promise<void>;
  /** A superuser client over the unix socket (trust), for inspecting and tampering. */
  client(db: string): Promise<pg.Client>;
  pid: number;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'ms-pg-'));
  const data = join(dir, 'data');
  let asUser: string[] = [];
  if (userInfo().uid === 0) {
    const user = idOf('postgres') ? 'postgres' : 'nobody';
    const id = idOf(user)!;
    chownSync(dir, id.uid, id.gid);
    asUser = ['runuser', '-u', user, '--'];
  }
  chmodSync(dir, 0o700);
  const pw = join(dir, 'pw');
  writeFileSync(pw, `${PASSWORD}\n`, { mode: 0o600 });
  if (asUser.length) chownSync(pw, idOf(asUser[2]!)!.uid, idOf(asUser[2]!)!.gid);
  const run = (tool: string, args: string[]) => {
    const [cmd, ...rest] = [...asUser, tool, ...args];
    return execFileSync(cmd!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  // Loopback TCP needs the password (scram), the socket in the temp dir is trusted (tests' own inspection).
  run(pgBin('initdb'), [
    '-D',
    data,
    '-U',
    SUPERUSER,
    '--pwfile',
    pw,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  rmSync(pw);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      run(pgBin('pg_ctl'), [
        '-D',
        data,
        '-w',
        '-t',
        '60',
        '-l',
        join(dir, 'log'),
        '-o',
        `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c fsync=off -c max_connections=100`,
        'start',
      ]);
      break;
    } catch (e) {
      if (attempt >= 2) throw new Error(`pg_ctl start failed: ${(e as Error).message}\n${safeRead(join(dir, 'log'))}`);
    }
  }
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const client = async (db: string) => {
    const c = new pg.Client({ host: dir, port, user: SUPERUSER, database: db });
    await c.connect();
    return c;
  };
  return {
    dir,
    port,
    pid,
    url: (db) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${db}`,
    client,
    async createDb(name) {
      const c = await client('postgres');
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
    },
    async stop() {
      try {
        run(pgBin('pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
      } catch {
        // Not stopped cleanly: the postmaster is ours, by PID.
      }
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (alive(pid)) throw new Error(`postmaster ${pid} is still running`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
