// Custom steps (command on the host, local on the controller) inside the real engine on the local
// transport: server-derived values stay one quoted word or one stdin line and never run; a
// placeholder where quoting does not protect is refused; confirm, dry run, output, exit codes.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkShellTemplate, renderShell, stdinLines } from '../../src/actions/command-template.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { type RunOptions } from '../../src/playbook/engine.js';
import { quote } from '../../src/transport/quote.js';
import { localHost, runLocalPlaybook } from '../playbook/local-host.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-custom-'));
const PWN = join(dir, 'pwned');
/** Values an attacker chooses (an auth id, a log's client IP field): none may run or split. */
const HOSTILE = [
  `$(touch ${PWN})`,
  `\`touch ${PWN}\``,
  "it's'; touch " + PWN + "; '",
  `a\ntouch ${PWN}`,
  'esc\u001b[2J\u202eevil',
  `x" ; touch ${PWN} ; "`,
];

function host(vars: Record<string, unknown> = {}): HostSpec {
  return { ...localHost('mx-test', 'exim'), vars };
}

async function run(pb: string, o: Partial<RunOptions> = {}) {
  return runLocalPlaybook(pb, host(), { runsDir: mkdtempSync(join(dir, 'runs-')), ...o });
}

describe('the shell template of a custom step', () => {
  it.each(HOSTILE)('a hostile value is one quoted word: %j', (v) => {
    expect(renderShell('printf %s {{ who }}', { who: v }, 'w')).toBe(`printf %s ${quote(v)}`);
    expect(renderShell('set -- {{ ips }}', { ips: [v, '192.0.2.7'] }, 'w')).toBe(`set -- ${quote(v)} 192.0.2.7`);
  });

  it.each([
    [`echo "{{ who }}"`, /inside "…"/],
    [`echo '{{ who }}'`, /inside '…'/],
    [`echo $'{{ who }}'`, /inside \$'…'/],
    [`echo \\{{ who }}`, /after a backslash/],
    [`true # {{ who }}`, /in a comment/],
    [`cat <<EOF\n{{ who }}\nEOF`, /heredoc/],
    ['eval echo {{ who }}', /runs its words as shell code again/],
    ['ssh backup.example.test logger {{ who }}', /shell code again/],
    ['sh -c {{ who }}', /shell code again/],
    ['true; bash -ec "x" {{ who }}', /shell code again/],
    ['echo x | xargs {{ who }}', /shell code again/],
    ['su - admin -c {{ who }}', /shell code again/],
  ])('refuses a placeholder where quoting does not protect: %j', (text, re) => {
    expect(() => checkShellTemplate(text, 'block.params.command')).toThrow(re);
  });

  it('allows placeholders after quoted text, in words and after a #-in-a-word', () => {
    expect(renderShell(`echo 'a' "b" x#{{ who }} ip={{ who }}`, { who: 'a b' }, 'w')).toBe(`echo 'a' "b" x#'a b' ip='a b'`);
    expect(() => renderShell('echo {{ nope }}', {}, 'w')).toThrow(/not defined/);
    expect(() => renderShell('echo {{ o }}', { o: { a: 1 } }, 'w')).toThrow(/only text, numbers and lists/);
    // Other commands on the same line are not the placeholder's command.
    expect(renderShell('ssh-keygen -l >/dev/null; csf -d {{ who }}', { who: '192.0.2.1' }, 'w')).toBe(
      'ssh-keygen -l >/dev/null; csf -d 192.0.2.1',
    );
    expect(renderShell('eval "$(x)"; csf -d {{ who }}', { who: '192.0.2.1' }, 'w')).toBe('eval "$(x)"; csf -d 192.0.2.1');
  });

  it('stdin is one value a line; a value with a line break is refused', () => {
    expect(stdinLines(['192.0.2.1', '$(id)', "'"], 's')).toBe("192.0.2.1\n$(id)\n'\n");
    expect(stdinLines('bob@x.test', 's')).toBe('bob@x.test\n');
    expect(stdinLines([], 's')).toBe('');
    expect(() => stdinLines(['ok', 'a\nb'], 'block.params.stdin')).toThrow(/block\.params\.stdin\[1\]: the value holds a line break/);
    expect(() => stdinLines('a\rb', 's')).toThrow(/line break/);
  });
});

const ARGS = join(dir, 'args.sh');
writeFileSync(ARGS, '#!/bin/sh\nfor a in "$@"; do printf "<%s>" "$a"; done\n');
chmodSync(ARGS, 0o755);

describe('the command action on the host', () => {
  it.each(HOSTILE)('a hostile account value reaches the command as one argument and never runs: %j', async (who) => {
    const { out, events } = await run(
      `name: t\nvars: { who: "" }\nsteps:\n  - { name: Block, id: block, action: command, params: { command: "${ARGS} {{ who }}" } }\n`,
      { vars: { who } },
    );
    expect(out.status, out.error).toBe('ok');
    const cmd = events.find((e) => e.t === 'command' && e.step === 'block')!;
    expect(cmd.stdout).toBe(`<${who}>`);
    expect(existsSync(PWN)).toBe(false);
  });

  it('data goes on stdin one line each; a value with a newline stops the step before anything runs', async () => {
    const got = join(dir, 'stdin-got');
    const pb = (mark: string) =>
      `name: t\nvars: { ips: [] }\nsteps:\n  - { name: Block, id: block, action: command, params: { command: "touch ${mark}; cat > ${got}", stdin: "{{ ips }}" } }\n`;
    const ok = await run(pb(join(dir, 'm1')), { vars: { ips: ['192.0.2.1', `$(touch ${PWN})`, '2001:db8::1'] } });
    expect(ok.out.status, ok.out.error).toBe('ok');
    expect(readFileSync(got, 'utf8')).toBe(`192.0.2.1\n$(touch ${PWN})\n2001:db8::1\n`);
    expect(ok.events.find((e) => e.t === 'command' && e.step === 'block')).toMatchObject({
      destructive: true,
      stdin: readFileSync(got, 'utf8'),
    });
    const bad = await run(pb(join(dir, 'm2')), { vars: { ips: ['192.0.2.1', '192.0.2.2\n198.51.100.9'] } });
    expect(bad.out.status).toBe('failed');
    expect(bad.out.error).toMatch(/block\.params\.stdin\[1\]: the value holds a line break/);
    expect(existsSync(join(dir, 'm2'))).toBe(false);
    expect(existsSync(PWN)).toBe(false);
  });

  it('a placeholder inside double quotes fails the step, naming it, before anything runs', async () => {
    const mark = join(dir, 'm3');
    const r = await run(
      `name: t\nvars: { who: x }\nsteps:\n  - name: Block\n    id: block\n    action: command\n    params: { command: 'touch ${mark}; echo "{{ who }}"' }\n`,
    );
    expect(r.out.status).toBe('failed');
    expect(r.out.error).toMatch(/block\.params\.command: \{\{ who \}\} inside "…"/);
    expect(existsSync(mark)).toBe(false);
  });

  it('--yes runs a destructive command (a plan question); an answer "no" declines it, with or without confirm:', async () => {
    const mark = join(dir, 'm4');
    const pb = (confirm: string) =>
      `name: t\nsteps:\n  - { name: Block, id: block, action: command, ${confirm} params: { command: "touch ${mark}" } }\n`;
    for (const c of ['', 'confirm: "Block it?",']) {
      const no = await run(pb(c), { answers: { 'confirm.block': false } });
      expect(no.out.status, no.out.error).toBe('ok');
      expect(existsSync(mark)).toBe(false);
      expect(no.events.find((e) => e.t === 'decision')).toMatchObject({ answer: false, by: 'answers-file' });
      expect(no.events.some((e) => e.t === 'command' && e.step === 'block')).toBe(false);
    }
    const yes = await run(pb(''));
    expect(yes.out.status, yes.out.error).toBe('ok');
    expect(yes.events.find((e) => e.t === 'decision')).toMatchObject({
      question: `Run on mx-test: touch ${mark}?`,
      answer: true,
      by: 'flag',
    });
    expect(existsSync(mark)).toBe(true);
  });

  it('a dry run shows the exact command and its stdin and runs nothing; a readonly command runs', async () => {
    const mark = join(dir, 'm5');
    const who = `$(touch ${PWN})`;
    const r = await run(
      `name: t\nvars: { who: "" }\nsteps:\n  - { name: Block, id: block, action: command, params: { command: "touch ${mark}; csf -d {{ who }}", stdin: ["{{ who }}"] } }\n  - { name: Look, id: look, action: command, params: { command: "echo looked", readonly: true } }\n`,
      { vars: { who }, dryRun: true },
    );
    expect(r.out.status, r.out.error).toBe('ok');
    expect(r.text).toContain(`[dry-run] would run: touch ${mark}; csf -d ${quote(who)}\n  on stdin (1 line(s)):\n  | ${who}`);
    expect(existsSync(mark)).toBe(false);
    expect(existsSync(PWN)).toBe(false);
    expect(r.out.results.block).toMatchObject({ ran: false, dryRun: true });
    expect(r.out.results.look).toMatchObject({ ran: true, stdout: 'looked' });
  });

  it('output with ESC and bidi characters is shown printable; a non-zero exit fails the step with its tail', async () => {
    const r = await run(
      `name: t\nsteps:\n  - { name: Look, id: look, action: command, params: { command: "printf 'ok\\\\033[2J\\\\342\\\\200\\\\256gnp.exe\\\\n'", readonly: true } }\n`,
    );
    expect(r.out.status, r.out.error).toBe('ok');
    expect(r.text).toContain('ok^[[2J<U+202E>gnp.exe');
    expect(r.text).not.toMatch(/[\u001b\u202e]/);
    expect(r.out.results.look).toMatchObject({ stdout: 'ok^[[2J<U+202E>gnp.exe' });
    const f = await run(
      `name: t\nsteps:\n  - { name: Look, id: look, action: command, params: { command: "echo line1; echo line2 >&2; printf 'bad\\\\033]0;x\\\\007\\\\n' >&2; exit 3", readonly: true } }\n`,
    );
    expect(f.out.status).toBe('failed');
    expect(f.out.error).toMatch(/command on mx-test failed \(exit 3\):\n  line1\n  line2\n  bad\^\[\]0;x\^G/);
    const codes = await run(
      `name: t\nsteps:\n  - { name: Look, id: look, action: command, params: { command: "exit 3", readonly: true, ok_codes: [0, 3] } }\n`,
    );
    expect(codes.out.status, codes.out.error).toBe('ok');
  });
});
