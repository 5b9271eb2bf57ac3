// --answers FILE: only keys the playbook can ask, one level deep; a typo names the file, the line,
// the key and what was meant, before anything runs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../../src/actions/index.js';
import { ConfigError } from '../../src/errors.js';
import { ACTION_QUESTIONS, answerKeys, parseAnswers } from '../../src/playbook/answers.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { DEFAULT_PLAYBOOK } from '../../src/commands/incident.js';

const playbook = await loadPlaybook(DEFAULT_PLAYBOOK, ACTION_NAMES);
const parse = (text: string) => parseAnswers(text, 'answers.yaml', playbook);
const error = (text: string): string => {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('answers file', () => {
  it('known keys pass with their values (YAML or JSON)', () => {
    expect(parse('identify.account: bob@example.test\nconfirm.purge: yes\nnotify.customer_email: c@example.test\n')).toEqual({
      'identify.account': 'bob@example.test',
      'confirm.purge': 'yes', // YAML 1.2, as before: the asker reads yes/no
      'notify.customer_email': 'c@example.test',
    });
    expect(parse('{"confirm.backscatter": false}')).toEqual({ 'confirm.backscatter': false });
    expect(parse('')).toEqual({});
  });

  it('a misspelt key is an error naming file, line, key and the near one', () => {
    expect(error('identify.account: bob@example.test\nconfirm.purg: yes\n')).toBe(
      '--answers answers.yaml:2: no question "confirm.purg" in this playbook; did you mean "confirm.purge"?',
    );
  });

  it('a key nothing is near lists the questions there are', () => {
    const m = error('whatever: 1\n');
    expect(m).toMatch(/^--answers answers\.yaml:1: no question "whatever" in this playbook \(its questions: confirm\.identify, /);
    expect(m).toContain('identify.account');
  });

  it('a nested mapping is an error that shows the flat key to write', () => {
    expect(error('confirm.purge: yes\nidentify:\n  account: bob@example.test\n')).toBe(
      '--answers answers.yaml:2: "identify" is a nested mapping; answers are one level, keyed by the whole question key (write "identify.account": …)',
    );
  });

  it('hostile key text is shown printable; bad YAML names its line', () => {
    expect(error('"\\e[2Jx": 1\n')).toContain('"^[[2Jx"');
    expect(error('a: 1\na: 2\n')).toMatch(/^--answers answers\.yaml:2: /);
    expect(error('- a\n- b\n')).toMatch(/expected a mapping/);
  });

  it('a custom step can be confirmed by its own id', () => {
    expect(answerKeys({ steps: [{ id: 'block_ips', action: 'command' }] as never })).toEqual(['confirm.block_ips']);
  });

  it('every question key an action asks under literally is listed (so no valid answer is refused)', () => {
    const dir = 'src/actions';
    const asked = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/ask\.(?:confirm|select|input)\(\s*'([^']+)'/g)].map((m) => m[1]!));
    expect(asked.length).toBeGreaterThanOrEqual(5);
    const listed = Object.values(ACTION_QUESTIONS).flat();
    for (const k of asked) expect(listed, k).toContain(k);
  });
});
