// The report config: defaults, durations, and errors that name file:line and the field.
import { describe, expect, it } from 'vitest';
import { parseReportConfig } from '../../src/alerts/config.js';

const parse = (lines: string[]) => parseReportConfig(lines.join('\n') + '\n', 'report.yaml');
const err = (lines: string[]) => {
  try {
    parse(lines);
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  throw new Error('no error');
};

describe('report config', () => {
  it('defaults: repeat 4h, resolved notices on, no channels', () => {
    expect(parse([''])).toMatchObject({ repeatIntervalMs: 4 * 3_600_000, sendResolved: true, channels: [] });
  });

  it('reads every channel type with defaults filled in', () => {
    const c = parse([
      'repeat_interval: 2h',
      'send_resolved: false',
      'keep: 30d',
      'channels:',
      '  mail:',
      '    type: smtp',
      '    host: relay.example.net',
      '    user: alerts',
      '    password_file: /etc/mailsweep/smtp-pass',
      '    from: mailsweep@example.net',
      '    to: noc@example.net',
      '    min_severity: critical',
      '  hook:',
      '    type: webhook',
      '    url_env: HOOK_URL',
      '    bearer_token_file: /etc/mailsweep/hook-token',
      '    send_resolved: true',
      '  chat:',
      '    type: slack',
      '    url_env: SLACK_URL',
    ]);
    expect(c).toMatchObject({ repeatIntervalMs: 7_200_000, sendResolved: false, keepMs: 30 * 86_400_000 });
    expect(c.channels).toEqual([
      expect.objectContaining({
        name: 'mail',
        type: 'smtp',
        port: 587,
        secure: false,
        to: ['noc@example.net'],
        min_severity: 'critical',
        timeout: 10_000,
        retries: 2,
        backoff: 2_000,
      }),
      expect.objectContaining({ name: 'hook', type: 'webhook', url_env: 'HOOK_URL', send_resolved: true, min_severity: 'warning' }),
      expect.objectContaining({ name: 'chat', type: 'slack', url_env: 'SLACK_URL' }),
    ]);
  });

  it.each([
    [
      ['channels:', '  m:', '    type: smtp', '    host: h', '    from: a@b.c', '    to: x@y.z', '    password: hunter2'],
      'report.yaml:7: channels.m.password: "password": secrets are never written in the config; name an environment variable (password_env) or a file (password_file)',
    ],
    [
      ['channels:', '  m:', '    type: smtp', '    colour: red', '    pass: x'],
      'report.yaml:5: channels.m.pass: "pass": secrets are never written in the config',
    ],
    [
      ['channels:', '  s:', '    type: slack', '    url_env: https://hooks.slack.com/services/T/B/X'],
      'report.yaml:4: channels.s.url_env: must name an environment variable (letters, digits, _), not hold the secret itself; the value is not shown',
    ],
    [
      ['channels:', '  s:', '    type: slack', '    url: https://hooks.slack.com/services/T/B/X'],
      'report.yaml:4: channels.s.url: "url": a Slack webhook URL is a secret; give url_env or url_file',
    ],
    [
      ['channels:', '  h:', '    type: webhook', '    url: http://x/', '    token: abc'],
      'report.yaml:5: channels.h.token: "token": secrets are never written in the config',
    ],
    [['repeat_interval: 4 hours'], 'report.yaml:1: repeat_interval: expected a duration like 30s, 15m, 4h or 90d, got "4 hours"'],
    [['channels:', '  p:', '    type: pager'], 'report.yaml:3: channels.p.type: "type" must be one of smtp, webhook, slack'],
    [['channels:', '  m:', '    type: smtp', '    from: a@b.c', '    to: x@y.z'], 'report.yaml:2: channels.m.host: Required'],
    [['channels:', '  h:', '    type: webhook'], 'report.yaml:2: channels.h: needs url (or url_env / url_file when the URL holds a token)'],
    [
      ['channels:', '  h:', '    type: webhook', '    url_env: A', '    url_file: /b'],
      'report.yaml:2: channels.h: give url_env or url_file, not both',
    ],
    [['channels:', '  s:', '    type: slack'], 'report.yaml:2: channels.s: needs url_env or url_file (the Slack webhook URL is a secret)'],
    [
      ['channels:', '  m:', '    type: smtp', '    host: h', '    from: a@b.c', '    to: x@y.z', '    password_env: P'],
      'report.yaml:2: channels.m: a password without "user"',
    ],
    [
      ['channels:', '  h:', '    type: webhook', '    url: http://x/', '    retries: -1'],
      'report.yaml:5: channels.h.retries: Number must be greater than or equal to 0',
    ],
    [
      ['channels:', '  h:', '    type: webhook', '    url: http://x/', '    url: http://y/'],
      'report.yaml:5: YAML syntax error: Map keys must be unique',
    ],
    [['send_resolved: yes please'], 'report.yaml:1: send_resolved: Expected boolean, received string'],
    [['- a', '- b'], 'report.yaml:1: expected a mapping (repeat_interval, send_resolved, keep, channels, auto_contain)'],
    [
      ['channels:', '  "bad name":', '    type: webhook', '    url: http://x/'],
      'report.yaml:2: channels.bad name: channel names are letters, digits',
    ],
  ])('%j → %s', (lines, message) => {
    const e = err(lines);
    expect(e.startsWith(`ConfigError: ${message}`), e).toBe(true);
    expect(e).not.toMatch(/hunter2|hooks\.slack\.com|: x$|abc/);
  });
});

describe('contrib/report.example.yaml', () => {
  it('is a valid config', async () => {
    const { loadReportConfig } = await import('../../src/alerts/config.js');
    const c = await loadReportConfig('contrib/report.example.yaml');
    expect(c.channels.map((x) => [x.name, x.type])).toEqual([
      ['noc-mail', 'smtp'],
      ['pager-sms', 'smtp'],
      ['alertmanager', 'webhook'],
      ['chat', 'slack'],
    ]);
    expect(c.autoContain).toBeUndefined();
  });

  it("its commented auto_contain, uncommented, is a valid dry-run policy; so is README's", async () => {
    const { readFileSync } = await import('node:fs');
    const { parseReportConfig } = await import('../../src/alerts/config.js');
    const text = readFileSync('contrib/report.example.yaml', 'utf8');
    const block = text.slice(text.indexOf('# auto_contain:')).replace(/^# /gm, '');
    expect(parseReportConfig(block, 'example').autoContain).toMatchObject({ mode: 'dry-run', measures: ['hold', 'kick'], maxAccounts: 3 });
    const readme = [...readFileSync('README.md', 'utf8').matchAll(/```yaml\n(auto_contain:[\s\S]*?)```/g)];
    expect(readme).toHaveLength(1);
    expect(parseReportConfig(readme[0]![1]!, 'README').autoContain).toMatchObject({
      mode: 'contain',
      minRules: 2,
      anyOf: ['sender-mismatch', 'many-ips'],
      runsDir: '/var/lib/mailsweep/runs',
    });
  });
});
