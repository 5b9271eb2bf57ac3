// The README's two custom-step examples (CSF block, ticket webhook) are valid playbook steps whose
// shell text passes the quoting check: the documentation cannot drift into an unsafe pattern.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../../src/actions/index.js';
import { checkShellTemplate, renderShell } from '../../src/actions/command-template.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { quote } from '../../src/transport/quote.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### Custom steps'), readme.indexOf('## Scheduled reports'));
const blocks = [...section.matchAll(/```yaml\n([^]*?)```/g)].map((m) => m[1]!);

describe('the README custom-step examples', () => {
  it('are two steps that load after identify and pass the shell-template check', () => {
    expect(blocks).toHaveLength(2);
    const pb = parsePlaybook(
      `name: x\nsteps:\n  - { name: Identify, id: identify, action: identify }\n${blocks.join('')}`,
      'README.md',
      ACTION_NAMES,
    );
    const [, block, ticket] = pb.steps;
    expect(block).toMatchObject({ id: 'block', action: 'command' });
    expect(ticket).toMatchObject({ id: 'ticket', action: 'local' });
    const cmd = String(block!.params.command);
    checkShellTemplate(cmd, 'block');
    const hostile = "bob@x.test'; rm -rf / #";
    expect(renderShell(cmd, { identify: { authId: hostile } }, 'block')).toContain(` ${quote(hostile)}; done`);
    const argv = ticket!.params.argv as string[];
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    checkShellTemplate(argv[2]!, 'ticket');
  });
});
