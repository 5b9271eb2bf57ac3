// Read a playbook: YAML → schema (zod) → rules (known actions, unique ids, references to earlier
// steps only) → errors that name the file, the line and the field.
import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { fail } from '../inventory/fail.js';
import { PlaybookSchema, type Playbook, type Step } from './schema.js';
import { references } from './template.js';

/** Line of the YAML node at a schema path (falls back to the nearest ancestor that exists). */
function lineOf(doc: ReturnType<typeof parseDocument>, lc: LineCounter, path: (string | number)[]): number {
  let node: unknown = doc.contents;
  let best = 1;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown })?.value === key);
      if (!pair) break;
      const k = pair.key as Node;
      if (k?.range) best = lc.linePos(k.range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      const r = (node as Node | undefined)?.range;
      if (r) best = lc.linePos(r[0]).line;
    } else break;
  }
  return best;
}

export function parsePlaybook(text: string, file: string, knownActions: readonly string[]): Playbook {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    fail(file, e.linePos?.[0].line ?? 1, '', e.message.split('\n')[0]!);
  }
  const raw = doc.toJS() as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, 1, '', 'a playbook is a mapping with name, vars and steps');
  const parsed = PlaybookSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.');
    const msg = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message;
    fail(file, lineOf(doc, lc, issue.path), path, msg);
  }
  const seen = new Set<string>(['vars', 'host', 'run', 'inventory', ...Object.keys(parsed.data.vars)]);
  const steps: Step[] = parsed.data.steps.map((s, i) => {
    const id = s.id ?? s.action.replace(/[^\w-]/g, '_');
    const at = (field: string) => lineOf(doc, lc, ['steps', i, field]);
    if (s.action === 'repeat') {
      const steps = (s.params as { steps?: unknown }).steps;
      const ids = parsed.data.steps.slice(0, i).map((x) => x.id ?? x.action);
      if (!Array.isArray(steps) || !steps.every((x) => ids.includes(String(x))))
        fail(file, at('params'), `steps.${i}.params.steps`, `repeat needs a list of earlier step ids (${ids.join(', ')})`);
      if (typeof (s.params as { until?: unknown }).until !== 'string')
        fail(file, at('params'), `steps.${i}.params.until`, 'repeat needs an until: condition');
    } else if (!knownActions.includes(s.action))
      fail(file, at('action'), `steps.${i}.action`, `unknown action "${s.action}" (known: ${knownActions.join(', ')})`);
    if (seen.has(id) && !Object.keys(parsed.data.vars).includes(id))
      fail(file, at(s.id ? 'id' : 'action'), `steps.${i}.id`, `"${id}" is used twice; give the step an id`);
    for (const ref of [...references(s.params), ...references(s.when ?? ''), ...references(typeof s.confirm === 'string' ? s.confirm : '')])
      if (!seen.has(ref))
        fail(file, at('params'), `steps.${i}`, `{{ ${ref} }} refers to nothing defined before this step (vars or an earlier step id)`);
    seen.add(id);
    return { ...s, id };
  });
  return { ...parsed.data, steps, file };
}

export async function loadPlaybook(file: string, knownActions: readonly string[]): Promise<Playbook> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read playbook ${file}: ${(e as Error).message}`);
  }
  return parsePlaybook(text, file, knownActions);
}
