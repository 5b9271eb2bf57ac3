// `--answers FILE`: questions answered ahead, checked against the questions the playbook can ask.
// A misspelt or nested key would otherwise be ignored, and the run would ask (or stop) instead.
import { readFile } from 'node:fs/promises';
import { isMap, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { didYouMean } from '../text/suggest.js';
import { printable } from '../text/printable.js';
import type { Playbook } from './schema.js';

/**
 * The questions each action asks under its own key (test/playbook/answers.test.ts checks this
 * list against the actions' code). Every step may also ask `confirm.STEP_ID`.
 */
export const ACTION_QUESTIONS: Readonly<Record<string, readonly string[]>> = {
  identify: ['identify.account', 'identify.unknown_account', 'identify.is_spam'],
  notify: ['notify.customer_email'],
  release: ['release.unknown_prior'],
};

/** Every key an answers file may hold for this playbook. */
export function answerKeys(playbook: Pick<Playbook, 'steps'>): string[] {
  const keys = playbook.steps.flatMap((s) => [`confirm.${s.id}`, ...(ACTION_QUESTIONS[s.action] ?? [])]);
  return [...new Set(keys)];
}

/** Reads and checks an answers file (YAML or JSON): a flat mapping of known question keys. */
export async function readAnswers(file: string | undefined, playbook: Pick<Playbook, 'steps'>): Promise<Record<string, unknown>> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`--answers ${file}: ${(e as Error).message}`);
  }
  return parseAnswers(text, file, playbook);
}

export function parseAnswers(text: string, file: string, playbook: Pick<Playbook, 'steps'>): Record<string, unknown> {
  const at = (line: number) => `--answers ${file}:${line}`;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new ConfigError(`${at(e.linePos?.[0].line ?? 1)}: ${e.message.split('\n')[0]}`);
  }
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) throw new ConfigError(`--answers ${file}: expected a mapping of question keys to answers`);
  const known = answerKeys(playbook);
  const values = doc.toJS() as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const pair of doc.contents.items) {
    const keyNode = pair.key as Node | null;
    const line = keyNode?.range ? lc.linePos(keyNode.range[0]).line : 1;
    const key = String((keyNode as { value?: unknown } | null)?.value ?? keyNode);
    const shown = JSON.stringify(printable(key, { max: 80 }));
    if (isMap(pair.value)) {
      // identify: {account: bob} reads naturally but is not how keys are written.
      const inner = pair.value.items.map((p) => `${key}.${String((p.key as { value?: unknown } | null)?.value ?? p.key)}`);
      const example = inner.find((k) => known.includes(k)) ?? inner[0] ?? `${key}.…`;
      throw new ConfigError(
        `${at(line)}: ${shown} is a nested mapping; answers are one level, keyed by the whole question key (write ${JSON.stringify(printable(example, { max: 80 }))}: …)`,
      );
    }
    if (!known.includes(key))
      throw new ConfigError(
        `${at(line)}: no question ${shown} in this playbook${didYouMean(key, known) || ` (its questions: ${known.join(', ')})`}`,
      );
    out[key] = values[key];
  }
  return out;
}
