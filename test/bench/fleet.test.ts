// The fleet benchmark's pure parts: arguments, addresses, sshd_config, the spool rebuilt from the
// recording, /proc and GNU time parsing, medians and the ratio table; its shell scripts pass
// shellcheck. The benchmark itself (real sshd) is run by hand: `npm run bench:fleet`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostAddress, MAX_HOSTS, parseFleetBenchArgs, UsageError } from '../../src/bench/fleet/args.js';
import { FIXTURE, spoolFilesFromDump } from '../../src/bench/fleet/fleet.js';
import { parseProcStat, parsePss, parseTimeOutput } from '../../src/bench/fleet/measure.js';
import { renderSshdConfig } from '../../src/bench/fleet/sshd-config.js';
import { fitCurves, formatCurve } from '../../src/bench/fleet/curve.js';
import { firstDifference } from '../../src/bench/fleet/tools.js';
import { formatTable, median, summarizeRuns, type ToolRun } from '../../src/bench/fleet/stats.js';

describe('bench:fleet arguments', () => {
  it('defaults: forks 100, 3 rounds, all three tools, port 22, no attribution', () => {
    expect(parseFleetBenchArgs(['--hosts', '50'])).toEqual({
      hosts: [50],
      forks: 100,
      rounds: 3,
      tools: ['mailsweep', 'pssh', 'ansible'],
      attribution: false,
      port: 22,
      keep: false,
      json: null,
      knownHostsLines: 0,
      profile: null,
    });
  });

  it('every option; tools keep a fixed order and lose duplicates', () => {
    const a = parseFleetBenchArgs([
      '--hosts=7',
      '--forks',
      '5',
      '--rounds',
      '1',
      '--tools',
      'pssh,mailsweep,pssh',
      '--attribution',
      '--port',
      '2222',
      '--json',
      'x.json',
      '--keep',
      '--known-hosts-lines',
      '10000',
    ]);
    expect(a).toMatchObject({
      hosts: [7],
      forks: 5,
      rounds: 1,
      tools: ['mailsweep', 'pssh'],
      attribution: true,
      port: 2222,
      keep: true,
      json: 'x.json',
      knownHostsLines: 10_000,
    });
  });

  it.each([
    [[], /--hosts is required/],
    [['--hosts', '0'], /--hosts: 0 is out of range/],
    [['--hosts', String(MAX_HOSTS + 1)], /out of range/],
    [['--hosts', '5x'], /--hosts: expected a whole number, got "5x"/],
    [['--hosts', '-3'], /--hosts/],
    [['--hosts', '5', '--tools', 'mailsweep,clusterssh'], /--tools: unknown "clusterssh"/],
    [['--hosts', '5', '--tools', ''], /--tools: unknown ""/],
    [['--hosts', '5', '--port', '70000'], /--port: 70000 is out of range/],
    [['--hosts', '5', '--frobs', '1'], /frobs/],
    [['--hosts', '5', 'extra'], /extra/],
    [['--hosts', '5', '--json', ''], /--json: expected a file name/],
    [['--hosts', '5', '--known-hosts-lines', 'many'], /--known-hosts-lines: expected a whole number/],
    [['--hosts', '50,,200'], /--hosts: expected a whole number, got ""/],
    [['--hosts', '50,0'], /--hosts: 0 is out of range/],
  ])('%j is refused naming the option', (argv, msg) => {
    expect(() => parseFleetBenchArgs(argv)).toThrow(UsageError);
    expect(() => parseFleetBenchArgs(argv)).toThrow(msg);
  });

  it('addresses: 127.0.1.1 on, 254 per /24, never 127.0.0.x nor .0/.255', () => {
    expect(hostAddress(0)).toBe('127.0.1.1');
    expect(hostAddress(253)).toBe('127.0.1.254');
    expect(hostAddress(254)).toBe('127.0.2.1');
    expect(hostAddress(MAX_HOSTS - 1)).toBe('127.0.254.254');
    expect(() => hostAddress(MAX_HOSTS)).toThrow(RangeError);
    const all = new Set(Array.from({ length: 2000 }, (_, i) => hostAddress(i)));
    expect(all.size).toBe(2000);
  });
});

describe('sshd_config', () => {
  const base = {
    address: '127.0.1.9',
    port: 22,
    hostKeyPath: '/root/.cache/mailsweep/bench-fleet/hostkeys/host9_ed25519',
    pidFile: '/tmp/b/sshd/mx0009.pid',
    authorizedKeysFile: '/tmp/b/authorized_keys',
    stubBin: '/tmp/b/bin',
    home: '/tmp/b/home',
  };

  it('own address and key, key-only root, no PAM, limits raised, stub PATH first, no forwarding', () => {
    const c = renderSshdConfig(base);
    const lines = c.split('\n');
    for (const l of [
      'ListenAddress 127.0.1.9:22',
      `HostKey ${base.hostKeyPath}`,
      `PidFile ${base.pidFile}`,
      `AuthorizedKeysFile ${base.authorizedKeysFile}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'MaxStartups 10000:30:20000',
      'MaxSessions 1000',
      'AllowTcpForwarding no',
    ])
      expect(lines).toContain(l);
    expect(lines.find((l) => l.startsWith('SetEnv '))).toMatch(
      /^SetEnv PATH=\/tmp\/b\/bin:\/usr\/local\/sbin:.*:\/bin LC_ALL=C HOME=\/tmp\/b\/home$/,
    );
    expect(c).not.toMatch(/ForceCommand|Subsystem/);
  });

  it('refuses paths sshd_config would need quoted, and non-loopback addresses', () => {
    expect(() => renderSshdConfig({ ...base, stubBin: '/tmp/a b/bin' })).toThrow(/stub bin/);
    expect(() => renderSshdConfig({ ...base, pidFile: '/tmp/x"y' })).toThrow(/PidFile/);
    expect(() => renderSshdConfig({ ...base, home: '/tmp/h LD_PRELOAD=/x.so' })).toThrow(/home/);
    expect(() => renderSshdConfig({ ...base, hostKeyPath: 'relative/key' })).toThrow(/HostKey/);
    expect(() => renderSshdConfig({ ...base, address: '10.0.0.1' })).toThrow(/not a loopback address/);
    expect(() => renderSshdConfig({ ...base, address: '127.0.1.9\nPermitRootLogin yes' })).toThrow(/not a loopback address/);
    expect(() => renderSshdConfig({ ...base, port: 0 })).toThrow(/bad port/);
  });
});

describe('the recorded spool rebuilt', () => {
  it('one -H file per recorded envelope, equal to the recorded spool file where one was kept', () => {
    const files = spoolFilesFromDump(readFileSync(join(FIXTURE, 'queue.out'), 'utf8'));
    expect(files.size).toBe(339);
    const kept = '1xVOI7-0000PV-08-H';
    const real = readFileSync(join(FIXTURE, 'spool', kept), 'utf8');
    // The envelope part (up to the first blank line) is what the dump holds.
    expect(files.get(kept)).toBe(`${real.slice(0, real.indexOf('\n\n'))}\n\n`);
  });

  it('refuses a dump it cannot rebuild exactly (an -acl "+" line, a path-like name)', () => {
    const head = '__MAILSWEEP_RC__ spooldir 0\n__MAILSWEEP_H__ /s/input/1xVOI7-0000PV-08-H\n|1xVOI7-0000PV-08-H\n';
    expect(() => spoolFilesFromDump(`${head}+acl bytes\n__MAILSWEEP_RC__ spool 0\n`)).toThrow(/line not rebuilt/);
    expect(() => spoolFilesFromDump('__MAILSWEEP_RC__ spooldir 0\n__MAILSWEEP_H__ /s/input/..\n')).toThrow(/odd file name/);
    expect(spoolFilesFromDump(`${head}__MAILSWEEP_RC__ spool 0\n`)).toEqual(new Map([['1xVOI7-0000PV-08-H', '1xVOI7-0000PV-08-H\n\n']]));
  });
});

describe('measurement parsing', () => {
  it('/proc/PID/stat: a command name with spaces and ")" does not shift the fields', () => {
    const fields = ['S', '41', ...Array.from({ length: 9 }, () => '0'), '150', '50', '30', '20', '0', '0', '1', '0', '0', '0', '256'];
    const s = parseProcStat(42, `42 (ssh) evil) ${fields.join(' ')} 0 0`);
    expect(s).not.toBeNull();
    expect(s!.ppid).toBe(41);
    expect(s!.cpuS).toBeCloseTo(250 / 100, 5); // CLK_TCK 100 on Linux
    expect(s!.rssBytes).toBe(256 * 4096);
    expect(parseProcStat(1, 'garbage')).toBeNull();
  });

  it('PSS from smaps_rollup, not Pss_Anon and friends', () => {
    expect(parsePss('55d0-7ffd ---p 00000000 00:00 0  [rollup]\nRss:  2048 kB\nPss:  1234 kB\nPss_Anon:  99 kB\n')).toBe(1234);
    expect(parsePss('Rss: 1 kB\n')).toBeNull();
  });

  it("GNU time's line, after what the command wrote; a wrong line is an error", () => {
    expect(parseTimeOutput('Command exited with non-zero status 2\n17.61 8.02 1.90 210344 2\n')).toEqual({
      wallS: 17.61,
      userS: 8.02,
      sysS: 1.9,
      maxRssKb: 210344,
      exit: 2,
    });
    expect(() => parseTimeOutput('Command terminated by signal 9\n')).toThrow(/GNU time wrote/);
  });
});

describe('output comparison', () => {
  it('names the first line that differs, a missing line as (end)', () => {
    expect(firstDifference('339\na\nb', '339\na\nb')).toBe('identical');
    expect(firstDifference('339\na\nX', '339\na\nb')).toBe('line 3: got "X", expected "b"');
    expect(firstDifference('339\na', '339\na\nb')).toBe('line 3: got "(end)", expected "b"');
  });
});

describe('medians and the table', () => {
  const run = (tool: ToolRun['tool'], round: number, wallS: number, cpuS: number, complete = 10): ToolRun => ({
    tool,
    round,
    wallS,
    cpuS,
    userS: cpuS,
    sysS: 0,
    maxRssMb: 100 * (tool === 'mailsweep' ? 2 : 1),
    treePssMb: 150,
    sshdCpuS: 4,
    hostsComplete: complete,
    hosts: 10,
    exitCode: 0,
    failures: [],
  });

  it('median of odd and even counts, unsorted input untouched', () => {
    const xs = [3, 1, 2];
    expect(median(xs)).toBe(2);
    expect(xs).toEqual([3, 1, 2]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('medians per tool, the worst round named, ratios mailsweep/peer', () => {
    const runs = [
      run('mailsweep', 1, 10, 4),
      run('pssh', 1, 8, 8),
      run('mailsweep', 2, 30, 6, 9),
      run('pssh', 2, 12, 10),
      run('mailsweep', 3, 12, 5),
      run('pssh', 3, 10, 9),
    ];
    const s = summarizeRuns(runs);
    expect(s.map((x) => [x.tool, x.medians.wallS, x.medians.cpuS, x.minComplete])).toEqual([
      ['mailsweep', 12, 5, 9],
      ['pssh', 10, 9, 10],
    ]);
    const t = formatTable(s, { pssh: 'parallel-ssh' }).split('\n');
    expect(t[0]).toBe('|  | wall | client CPU | peak RSS (largest process) | peak PSS (tree, sampled) | fleet sshd CPU | hosts complete |');
    expect(t[2]).toBe('| mailsweep | 12.0 s | 5.00 s | 200 MB | 150 MB | 4.00 s | 9/10 |');
    expect(t[3]).toBe('| parallel-ssh | 10.0 s | 9.00 s | 100 MB | 150 MB | 4.00 s | 10/10 |');
    expect(t[4]).toBe('| mailsweep / pssh | 1.20× | 0.56× | 2.00× | 1.00× | 1.00× |  |');
  });

  it('no mailsweep run: no ratio rows; a zero peer figure gives a dash, not Infinity', () => {
    expect(formatTable(summarizeRuns([run('pssh', 1, 1, 1)])).split('\n')).toHaveLength(3);
    const zero = { ...run('ansible', 1, 1, 0), sshdCpuS: 0 };
    const t = formatTable(summarizeRuns([run('mailsweep', 1, 2, 1), zero]));
    expect(t).toContain('| mailsweep / ansible | 2.00× | — |');
    expect(t).not.toContain('Infinity');
  });
});

describe('bench:fleet shell scripts', () => {
  it.each(['install.sh', 'run.sh'])('scripts/bench-fleet/%s passes shellcheck', (f) => {
    const r = spawnSync('shellcheck', ['-f', 'gcc', join('scripts/bench-fleet', f)], { encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck is needed for this test (Debian package shellcheck): ${r.error.message}`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('the scale curve', () => {
  const summary = (tool: 'mailsweep' | 'pssh', cpuS: number, wallS = 1) => ({
    tool,
    rounds: 3,
    medians: { wallS, cpuS, maxRssMb: 1, treePssMb: 1, sshdCpuS: 1 },
    minComplete: 1,
    hosts: 1,
  });

  it('several sizes, sorted and unique', () => {
    expect(parseFleetBenchArgs(['--hosts', '2000,50,500,50']).hosts).toEqual([50, 500, 2000]);
  });

  it('fits fixed + per-host CPU per tool, projects it, and shows per-host CPU net of the fixed part', () => {
    // mailsweep: 0.3 s + 4 ms/host exactly; pssh: 14 ms/host, no fixed part.
    const results = [50, 200, 2000].map((hosts) => ({
      hosts,
      summaries: [summary('mailsweep', 0.3 + 0.004 * hosts), summary('pssh', 0.014 * hosts)],
    }));
    const fits = fitCurves(results);
    expect(fits[0]!.tool).toBe('mailsweep');
    expect(fits[0]!.fixedS).toBeCloseTo(0.3, 6);
    expect(fits[0]!.perHostMs).toBeCloseTo(4, 6);
    expect(fits[1]!.perHostMs).toBeCloseTo(14, 6);
    const text = formatCurve(results);
    expect(text).toContain('| 50 | 10.00 ms | 4.00 ms | 14.00 ms | 14.00 ms |');
    expect(text).toContain('| 2000 | 4.15 ms | 4.00 ms |');
    expect(text).toContain('mailsweep: client CPU ≈ 0.30 s + 4.00 ms × hosts → 10,000 hosts: 40.3 s');
  });

  it('one size: no fit (a line needs two points)', () => {
    expect(fitCurves([{ hosts: 50, summaries: [summary('pssh', 1)] }])).toEqual([]);
  });
});
