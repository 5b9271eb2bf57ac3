// README's containment examples, read from README itself so that the text an admin copies is the
// text the tests run: the `contain_commands:` YAML examples (per example host) and exim's ACL lines.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ContainCommandsSchema, type ContainCommands } from '../../src/actions/contain-commands.js';

const readme = () => readFileSync('README.md', 'utf8');

/** Every ```yaml example with contain_commands, validated: example host name → its commands. */
export function readmeContainCommands(): Record<string, ContainCommands> {
  const out: Record<string, ContainCommands> = {};
  for (const m of readme().matchAll(/```yaml\n([\s\S]*?)```/g)) {
    if (!m[1]!.includes('contain_commands:')) continue;
    for (const [host, v] of Object.entries(parse(m[1]!) as Record<string, { contain_commands: unknown }>))
      out[host] = ContainCommandsSchema.parse(v.contain_commands);
  }
  return out;
}

/** The ACL lines README tells an exim admin to put in /etc/exim4/mailsweep.acl (the fence after that name). */
export function readmeEximAcl(): string {
  const m = /`\/etc\/exim4\/mailsweep\.acl`[\s\S]*?\n```\n([\s\S]*?)```/.exec(readme());
  if (!m) throw new Error('README: no exim ACL block after `/etc/exim4/mailsweep.acl`');
  return m[1]!;
}
