// The printed resume command, run through a real shell and mailsweep's own option parser, gives
// back the options of the run it resumes: files (as absolute paths), answers, vars, steps skipped,
// timeout, unattended. Hostile values stay single words, never interpreted by the shell.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resumeCommand } from '../../src/commands/host-run.js';
import { incidentResumeArgs, type IncidentCliOptions } from '../../src/commands/incident.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { buildProgram } from '../../src/program.js';

const host = { name: 'mx1.dc1.example.net' } as HostSpec;
const marker = join(mkdtempSync(join(tmpdir(), 'ms-resume-')), 'pwned');

/** The words a POSIX shell makes of the command line (nothing runs: printf only echoes them). */
function shellWords(line: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `set -- ${line.replace(/^mailsweep /, '')}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

/** mailsweep's parser on those words: the options `incident` would run with. */
async function parsed(words: string[]): Promise<{ host: string; opts: Record<string, unknown> }> {
  const program = buildProgram();
  let got!: { host: string; opts: Record<string, unknown> };
  program.commands
    .find((c) => c.name() === 'incident')!
    .action((h: string, opts: Record<string, unknown>) => void (got = { host: h, opts }));
  await program.parseAsync(['node', 'mailsweep', ...words]);
  return got;
}

describe('incident resume command', () => {
  it('keeps every option the resumed run needs, quoted so a shell gives back each value exactly', async () => {
    const o: IncidentCliOptions = {
      inventory: 'inv dir/inventory.yaml',
      knownHosts: '/tmp/kh',
      runsDir: 'runs',
      playbook: "play'book.yaml",
      answers: 'answers.yaml',
      authId: 'bob@example.test',
      set: [`notify_template=$(touch ${marker}) \`id\` ; rm -rf /`, 'suspend_login=true'],
      hold: true,
      skip: 'reset,notify',
      forceAccount: true,
      acceptNewHostkeys: true,
      yes: true,
      timeout: '45',
    };
    const line = resumeCommand({ cmd: 'incident', host, resumeArgs: incidentResumeArgs(o) }, o, 'R-2026');
    const words = shellWords(line);
    expect(words.slice(0, 2)).toEqual(['incident', 'mx1.dc1.example.net']);
    const { host: h, opts } = await parsed(words);
    expect(h).toBe('mx1.dc1.example.net');
    // Every option back as given, the paths made absolute (the resume may run from elsewhere).
    expect(opts).toEqual({
      ...o,
      resume: 'R-2026',
      inventory: [resolve('inv dir/inventory.yaml')], // -i repeats (Ansible's several inventories)
      runsDir: resolve('runs'),
      playbook: resolve("play'book.yaml"),
      answers: resolve('answers.yaml'),
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('a dry run resumes as a dry run; options not given stay out', async () => {
    const o: IncidentCliOptions = { dryRun: true, timeout: '120' };
    const line = resumeCommand({ cmd: 'incident', host, resumeArgs: incidentResumeArgs(o) }, o, 'R1');
    expect(line).toBe('mailsweep incident mx1.dc1.example.net --resume R1 -t 120 --dry-run');
  });
});
