import { describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../../src/actions/index.js';
import { loadPlaybook, parsePlaybook } from '../../src/playbook/load.js';
import { render, truthy } from '../../src/playbook/template.js';

const fx = (n: string) => `test/fixtures/playbooks/${n}`;

describe('playbook loader', () => {
  it('loads the shipped hijacked-account playbook', async () => {
    const pb = await loadPlaybook('playbooks/hijacked-account.yaml', ACTION_NAMES);
    expect(pb.steps.map((s) => s.id)).toEqual([
      'identify',
      'reset',
      'restart',
      'evidence',
      'purge',
      'backscatter',
      'repeat',
      'evidence_final',
      'notify',
      'summary',
    ]);
    expect(pb.steps.find((s) => s.id === 'reset')?.skippable).toBe(true);
  });

  it.each([
    ['bad-action.yaml', /bad-action\.yaml:6: steps\.1\.action: unknown action "reset-pasword"/],
    ['bad-ref.yaml', /bad-ref\.yaml:5: steps\.0: \{\{ identify \}\} refers to nothing defined before this step/],
    ['unknown-key.yaml', /unknown-key\.yaml:3: steps\.0: unknown key\(s\) comfirm/],
  ])('%s fails with file, line and field', async (file, re) => {
    await expect(loadPlaybook(fx(file), ACTION_NAMES)).rejects.toThrow(re);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(() => parsePlaybook('name: x\nsteps:\n  - name: a\n    action: [identify\n', 'p.yaml', ACTION_NAMES)).toThrow(/^p\.yaml:\d+: /);
  });

  it('rejects a repeat of steps that do not come before it', () => {
    const text = 'name: x\nsteps:\n  - name: r\n    action: repeat\n    params: { steps: [purge], until: "{{ x }}" }\n';
    expect(() => parsePlaybook(text, 'p.yaml', ACTION_NAMES)).toThrow(/repeat needs a list of earlier step ids/);
  });
});

describe('templates', () => {
  const scope = { identify: { authId: 'bob@example.test', n: 3, list: [1, 2] }, hold: false };
  it('keeps the type of a whole placeholder and interpolates inside text', () => {
    expect(render('{{ identify.n }}', scope, 'x')).toBe(3);
    expect(render('{{ identify.list }}', scope, 'x')).toEqual([1, 2]);
    expect(render('purge {{ identify.authId }} now', scope, 'x')).toBe('purge bob@example.test now');
    expect(render({ a: ['{{ hold }}'] }, scope, 'x')).toEqual({ a: [false] });
  });
  it('refuses undefined names instead of rendering an empty account', () => {
    expect(() => render('{{ identify.authid }}', scope, 'purge.params.account')).toThrow(
      /purge\.params\.account: \{\{ identify\.authid \}\} is not defined/,
    );
  });
  it('does not evaluate anything', () => {
    expect(() => render('{{ constructor.constructor }}', scope, 'x')).toThrow(/not defined/);
    expect(() => render('{{ identify.__proto__ }}', scope, 'x')).toThrow(/not defined/);
    expect(() => render('{{ process.exit(1) }}', scope, 'x')).not.toThrow();
    expect(render('{{ process.exit(1) }}', scope, 'x')).toBe('{{ process.exit(1) }}');
  });
  it('has Ansible-like truthiness', () => {
    for (const f of ['', 'false', 'no', '0', 'off', false, 0, null, []]) expect(truthy(f)).toBe(false);
    for (const t of ['yes', 'true', 1, true, [0]]) expect(truthy(t)).toBe(true);
  });
});
