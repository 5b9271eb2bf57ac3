// contain_commands is checked when the inventory loads: a wrong shape stops the run with the
// file, line and key, before any host is contacted.
import { describe, expect, it } from 'vitest';
import { containCommands } from '../../src/actions/contain-commands.js';
import { ConfigError } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/load.js';

const inv = (body: string) => `all:\n  hosts:\n    mx1:\n      contain_commands:\n${body}`;

describe('contain_commands at inventory load', () => {
  it.each([
    ['a string instead of a mapping', '        hold\n', 'hosts.mx1.contain_commands: expected a mapping of hold'],
    ['no release', '        hold:\n          contain: "postmap x"\n', 'hosts.mx1.contain_commands.hold.release: expected'],
    [
      'an empty command',
      '        hold:\n          contain: ""\n          release: "true"\n',
      'hosts.mx1.contain_commands.hold.contain: expected',
    ],
    ['an unknown measure', '        freeze:\n          contain: "x"\n          release: "y"\n', 'hosts.mx1.contain_commands: expected'],
    ['kick as a mapping', '        kick:\n          contain: "doveadm kick"\n', 'hosts.mx1.contain_commands.kick: expected'],
  ])('%s → exit-3 error naming file:line and key', (_, body, says) => {
    const text = inv(body);
    expect(() => parseInventory(text, 'inv.yaml')).toThrow(ConfigError);
    expect(() => parseInventory(text, 'inv.yaml')).toThrow(`inv.yaml:4: ${says}`);
  });

  it('a good value loads, from group vars too, and reads back', () => {
    const text = `all:\n  vars:\n    contain_commands:\n      hold:\n        contain: "IFS= read -r u; echo \\"$u HOLD\\" >> /etc/postfix/sasl_access && postmap /etc/postfix/sasl_access"\n        release: "sed-it"\n        check: "grep-it"\n      kick: "IFS= read -r u; doveadm kick \\"$u\\""\n  hosts:\n    mx1:\n`;
    const h = parseInventory(text, 'inv.yaml').hosts[0]!;
    const c = containCommands(h.vars);
    expect(c.hold).toMatchObject({ release: 'sed-it', check: 'grep-it' });
    expect(c.hold!.contain).toContain('postmap /etc/postfix/sasl_access');
    expect(c.kick).toBe('IFS= read -r u; doveadm kick "$u"');
  });
});
