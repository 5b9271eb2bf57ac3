import { readFileSync } from 'node:fs';
import { mtaHost } from '../../src/mta/host.js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { ADAPTERS, getAdapter } from '../../src/mta/index.js';
import { MTA_NAMES } from '../../src/mta/types.js';

describe('adapter registry', () => {
  it('has one adapter per MTA, named after it', () => {
    for (const name of MTA_NAMES) {
      expect(ADAPTERS[name].name).toBe(name);
      expect(getAdapter(name)).toBe(ADAPTERS[name]);
    }
  });
  it('rejects unknown names', () => {
    expect(() => getAdapter('exchange')).toThrow(ConfigError);
  });
  it('every queue command is one shell line set with markers and no unquoted context values', () => {
    for (const name of MTA_NAMES) {
      const cmd = getAdapter(name).queue(mtaHost('/x/$(touch pwned)/bin', { configDir: '`id`', qmailDir: '$(id)' })).command;
      expect(cmd).toContain('__MAILSWEEP_RC__');
      expect(cmd).toContain('$(touch pwned)');
      // Outside single-quoted words, none of the hostile values may appear.
      const unquoted = cmd.replace(/'[^']*'/g, "''");
      expect(unquoted).not.toContain('$(touch pwned)');
      expect(unquoted).not.toContain('`id`');
      expect(unquoted).not.toContain('$(id)');
    }
  });
  it('each adapter parses its saved listings, picking the format from the text (mailsweep parse)', () => {
    const now = 1795420800;
    const parse = (mta: (typeof MTA_NAMES)[number], file: string) =>
      getAdapter(mta).parseListing(readFileSync(`test/fixtures/${file}`, 'utf8'), now);
    expect(parse('exim', 'lab/bookworm-exim/exim-bp.txt').messages).toHaveLength(339);
    expect(parse('sendmail', 'lab/bookworm-sendmail/mailq.txt')).toMatchObject({ reportedTotal: 339, warnings: [] });
    // postfix: one queue recorded as postqueue -j and as postqueue -p gives the same messages.
    const json = parse('postfix', 'lab/bookworm-postfix/postqueue-j.jsonl');
    const text = parse('postfix', 'lab/bookworm-postfix/postqueue-p.txt');
    expect(json.messages).toHaveLength(339);
    expect(text.messages.map((m) => m.id)).toEqual(json.messages.map((m) => m.id));
    expect([json.reportedTotal, text.reportedTotal]).toEqual([null, 339]);
    // qmail: qmail-qread lists messages; qmailctl stat only counts them, with the services.
    expect(parse('qmail', 'mta/qmail/qread.txt').messages.length).toBeGreaterThan(0);
    expect(parse('qmail', 'mta/qmail/qmailctl-stat.txt')).toMatchObject({ messages: [], reportedTotal: 1387 });
  });
});
