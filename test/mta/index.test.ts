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
      const cmd = getAdapter(name).queue({ binary: '/x/$(touch pwned)/bin', vars: { configDir: '`id`', qmailDir: '$(id)' } }).command;
      expect(cmd).toContain('__MAILSWEEP_RC__');
      expect(cmd).toContain('$(touch pwned)');
      // Outside single-quoted words, none of the hostile values may appear.
      const unquoted = cmd.replace(/'[^']*'/g, "''");
      expect(unquoted).not.toContain('$(touch pwned)');
      expect(unquoted).not.toContain('`id`');
      expect(unquoted).not.toContain('$(id)');
    }
  });
});
