// Ansible YAML (or JSON) inventory text → raw groups and hosts with line numbers. Var meaning lives in build.ts.

import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Pair,
  type ScalarTag,
  type Tags,
  type YAMLMap,
} from 'yaml';
import { fail, seg, show } from './fail.js';
import { parseHostKey } from './host-range.js';

/** One var as written: its value and where. */
export interface VarDef {
  value: unknown;
  /** The file it is written in (inventory, group_vars or host_vars file). */
  file: string;
  line: number;
  /** Dotted path for messages: "hosts.mx1.ansible_port", "groups.dc1.vars.queue_warn". */
  path: string;
}

export interface RawGroup {
  name: string;
  file: string;
  line: number;
  vars: Map<string, VarDef>;
  hosts: string[];
  children: { name: string; file: string; line: number }[];
}

export interface RawHost {
  name: string;
  file: string;
  line: number;
  vars: Map<string, VarDef>;
  /** Groups that list the host directly. */
  groups: string[];
}

export interface RawInventory {
  file: string;
  /** Insertion order is inventory order. */
  groups: Map<string, RawGroup>;
  hosts: Map<string, RawHost>;
}

/** An Ansible `!vault` value: kept opaque, never printed. */
export class VaultValue {
  constructor(readonly ciphertext: string) {}
  toString(): string {
    return '[vault]';
  }
  toJSON(): string {
    return '[vault]';
  }
}

// YAML 1.1 as PyYAML reads it (Ansible's parser): yes/no/on/off are booleans, but y/n are strings.
function pyyamlTags(tags: Tags): Tags {
  return tags.map((t) => {
    if (typeof t !== 'object' || t.tag !== 'tag:yaml.org,2002:bool' || !('test' in t) || !t.test) return t;
    const test = t.test.test('yes') ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/ : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
    return { ...(t as ScalarTag), test };
  });
}

const ANSIBLE_TAGS: ScalarTag[] = [
  { tag: '!vault', resolve: (s: string) => new VaultValue(s) as never, identify: (v) => v instanceof VaultValue },
  { tag: '!unsafe', resolve: (s: string) => s, identify: () => false },
];

type Kind = 'a mapping' | 'a list' | 'nothing' | string;

function parseAnsibleYaml(text: string, lc: LineCounter): Document {
  return parseDocument(text, {
    version: '1.1',
    lineCounter: lc,
    uniqueKeys: false,
    customTags: (tags) => [...pyyamlTags(tags), ...ANSIBLE_TAGS],
  });
}

/** A group_vars / host_vars file: a mapping of vars (YAML or JSON); empty is no vars, as Ansible reads it. */
export function parseVarsFile(text: string, file: string): Map<string, VarDef> {
  const lc = new LineCounter();
  const doc = parseAnsibleYaml(text, lc);
  const lineAt = (node: unknown): number => {
    const at = (node as Node | null)?.range?.[0];
    return at === undefined ? 1 : lc.linePos(at).line;
  };
  const err = doc.errors[0];
  if (err)
    fail(file, err.linePos?.[0].line ?? 1, '', `YAML syntax error: ${err.message.split(/ at line \d+, column \d+/)[0] ?? err.message}`);
  rejectDuplicateKeys(doc, file, lineAt);
  const out = new Map<string, VarDef>();
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return out;
  if (!isMap(root)) fail(file, lineAt(root), '', 'expected a mapping of variable names to values');
  const lines = new Map<string, number>();
  for (const p of root.items) if (isScalar(p.key)) lines.set(String(p.key.value), lineAt(p.key));
  for (const [k, value] of Object.entries(root.toJS(doc) as Record<string, unknown>)) {
    out.set(k, { value, file, line: lines.get(k) ?? lines.get('<<') ?? 1, path: seg(k) });
  }
  return out;
}

export function parseYamlInventory(text: string, file: string): RawInventory {
  const lc = new LineCounter();
  const doc = parseAnsibleYaml(text, lc);
  const lineAt = (offset: number | undefined): number => (offset === undefined ? 1 : lc.linePos(offset).line);
  const lineOf = (node: unknown): number => lineAt((node as Node | null)?.range?.[0]);
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);

  const err = doc.errors[0];
  if (err) {
    if (looksLikeIni(text)) fail(file, 1, '', INI_HINT);
    const msg = err.message.split(/ at line \d+, column \d+/)[0] ?? err.message;
    let line = err.linePos?.[0].line ?? 1;
    // The parser notices an unclosed quote at the end of the file; the line that opened it is the useful one.
    const quote = err.code === 'MISSING_CHAR' ? /closing (["'])/.exec(msg)?.[1] : undefined;
    if (quote) line = openingQuoteLine(text, quote, line);
    fail(file, line, '', `YAML syntax error: ${msg}`);
  }
  rejectDuplicateKeys(doc, file, lineOf);

  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    fail(file, 1, '', 'the inventory is empty; expected a mapping that starts with "all:" (with hosts, vars, children)');
  }
  if (!isMap(root)) {
    if (looksLikeIni(text)) fail(file, 1, '', INI_HINT);
    fail(file, lineOf(root), '', `expected a mapping of group names at the top level (normally "all:"), got ${kind(root)}`);
  }

  const inv: RawInventory = { file, groups: new Map(), hosts: new Map() };
  // `ansible-inventory --list` output: groups list hosts and children by name, host vars live in _meta.hostvars.
  const listForm = root.items.some((p) => keyOf(p) === '_meta');

  function kind(node: unknown): Kind {
    const n = deref(node);
    if (n === null || n === undefined) return 'nothing';
    if (isMap(n)) return 'a mapping';
    if (isSeq(n)) return 'a list';
    if (isScalar(n)) return n.value === null ? 'nothing' : `${typeof n.value === 'string' ? 'a string' : typeof n.value} ${show(n.value)}`;
    return 'something else';
  }

  function keyOf(pair: Pair): string | null {
    const k = pair.key;
    if (isScalar(k)) return k.value === null || k.value === '' ? null : String(k.value);
    return k === null || k === undefined ? null : '';
  }

  function isNothing(node: unknown): boolean {
    const n = deref(node);
    return n === null || n === undefined || (isScalar(n) && n.value === null);
  }

  function group(name: string, line: number): RawGroup {
    let g = inv.groups.get(name);
    if (!g) inv.groups.set(name, (g = { name, file, line, vars: new Map(), hosts: [], children: [] }));
    return g;
  }

  function host(name: string, line: number): RawHost {
    let h = inv.hosts.get(name);
    if (!h) inv.hosts.set(name, (h = { name, file, line, vars: new Map(), groups: [] }));
    return h;
  }

  function addVars(target: Map<string, VarDef>, node: YAMLMap, prefix: string): void {
    const lines = new Map<string, number>();
    for (const p of node.items) {
      const k = keyOf(p);
      if (k === null) fail(file, lineOf(p.key ?? p.value), prefix, 'a variable has no name');
      lines.set(k, lineOf(p.key));
    }
    const obj = node.toJS(doc) as Record<string, unknown>;
    for (const [k, value] of Object.entries(obj)) {
      // Keys pulled in by a `<<: *anchor` merge are reported at the merge line.
      const line = lines.get(k) ?? lines.get('<<') ?? lineOf(node);
      target.set(k, { value, file, line, path: `${prefix}.${seg(k)}` });
    }
  }

  function addHost(g: RawGroup, key: string, line: number, path: string, varsNode: unknown): void {
    let parsed;
    try {
      parsed = parseHostKey(key);
    } catch (e) {
      fail(file, line, `${path}.${seg(key)}`, (e as Error).message);
    }
    const vars = deref(varsNode);
    if (!isNothing(vars) && !isMap(vars)) {
      const hint = isScalar(vars) ? ` (to give an address write "${key}: { ansible_host: ${String(vars.value)} }")` : '';
      fail(file, line, `hosts.${seg(key)}`, `expected a mapping of host variables or nothing, got ${kind(vars)}${hint}`);
    }
    for (const name of parsed.names) {
      const h = host(name, line);
      // Both lists change together, so the host's (short) list answers for both.
      if (!h.groups.includes(g.name)) {
        h.groups.push(g.name);
        g.hosts.push(name);
      }
      const prefix = `hosts.${seg(name)}`;
      if (parsed.port !== undefined) h.vars.set('ansible_port', { value: parsed.port, file, line, path: prefix });
      if (isMap(vars)) addVars(h.vars, vars, prefix);
    }
  }

  function names(node: unknown, path: string, what: string): { name: string; file: string; line: number }[] {
    const n = deref(node);
    if (isNothing(n)) return [];
    if (!isSeq(n)) fail(file, lineOf(n), path, `expected a list of ${what} names, got ${kind(n)}`);
    return n.items.map((item) => {
      const it = deref(item);
      if (!isScalar(it) || it.value === null || it.value === '') fail(file, lineOf(it), path, `expected a ${what} name, got ${kind(it)}`);
      return { name: String(it.value), file, line: lineOf(it) };
    });
  }

  function parseGroup(name: string, line: number, node: unknown, path: string): RawGroup {
    const g = group(name, line);
    const n = deref(node);
    if (isNothing(n)) return g;
    if (listForm && isSeq(n)) {
      for (const h of names(n, path, 'host')) addHost(g, h.name, h.line, path, null);
      return g;
    }
    if (!isMap(n)) {
      fail(file, line, path, `expected a mapping with "hosts:", "vars:" and/or "children:", got ${kind(n)}`);
    }
    for (const pair of n.items) {
      const key = keyOf(pair);
      const kline = lineOf(pair.key);
      const value = deref(pair.value);
      const kpath = `${path}.${key}`;
      if (key === 'vars') {
        if (isNothing(value)) continue;
        if (!isMap(value)) fail(file, kline, kpath, `expected a mapping of variable names to values, got ${kind(value)}`);
        addVars(g.vars, value, `groups.${seg(name)}.vars`);
      } else if (key === 'hosts') {
        if (listForm) {
          for (const h of names(value, kpath, 'host')) addHost(g, h.name, h.line, kpath, null);
          continue;
        }
        if (isNothing(value)) continue;
        if (!isMap(value)) {
          fail(
            file,
            kline,
            kpath,
            `expected a mapping of host names to their variables, got ${kind(value)}; write each host as a key ending in a colon ("mx1.example.com:"), not as a list item ("- mx1.example.com")`,
          );
        }
        for (const hp of value.items) {
          const hkey = keyOf(hp);
          const hline = lineOf(hp.key ?? hp.value);
          if (hkey === null || hkey === '') fail(file, hline, kpath, 'a host has no name or address');
          addHost(g, hkey, hline, kpath, hp.value);
        }
      } else if (key === 'children') {
        if (listForm) {
          for (const c of names(value, kpath, 'group')) {
            group(c.name, c.line);
            g.children.push(c);
          }
          continue;
        }
        if (isNothing(value)) continue;
        if (!isMap(value)) {
          fail(
            file,
            kline,
            kpath,
            `expected a mapping of group names to groups, got ${kind(value)}; write each child group as a key ending in a colon ("dc1:")`,
          );
        }
        for (const cp of value.items) {
          const cname = keyOf(cp);
          const cline = lineOf(cp.key ?? cp.value);
          if (cname === null || cname === '') fail(file, cline, kpath, 'a child group has no name');
          parseGroup(cname, cline, cp.value, `${kpath}.${seg(cname)}`);
          g.children.push({ name: cname, file, line: cline });
        }
      } else {
        fail(
          file,
          kline,
          kpath,
          `unexpected key: a group has only "hosts:", "vars:" and "children:"` +
            ` (if "${key}" is a host put it under "hosts:", if it is a group under "children:")`,
        );
      }
    }
    return g;
  }

  for (const pair of root.items) {
    const name = keyOf(pair);
    const line = lineOf(pair.key ?? pair.value);
    if (name === null || name === '') fail(file, line, '', 'a group has no name');
    if (name === '_meta' && listForm) continue;
    parseGroup(name, line, pair.value, seg(name));
  }

  if (listForm) {
    const meta = deref(root.items.find((p) => keyOf(p) === '_meta')?.value);
    const hostvars = isMap(meta) ? deref(meta.items.find((p) => keyOf(p) === 'hostvars')?.value) : undefined;
    if (isMap(hostvars)) {
      for (const hp of hostvars.items) {
        const name = keyOf(hp);
        const value = deref(hp.value);
        if (name === null || isNothing(value)) continue;
        if (!isMap(value))
          fail(file, lineOf(hp.key), `_meta.hostvars.${seg(name)}`, `expected a mapping of host variables, got ${kind(value)}`);
        addVars(host(name, lineOf(hp.key)).vars, value, `hosts.${seg(name)}`);
      }
    }
  }
  return inv;
}

function rejectDuplicateKeys(doc: Document, file: string, lineOf: (n: unknown) => number): void {
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, number>();
      for (const p of map.items) {
        if (!isScalar(p.key) || p.key.value === '<<') continue;
        const k = String(p.key.value);
        const line = lineOf(p.key);
        const first = seen.get(k);
        if (first !== undefined)
          fail(file, line, '', `duplicate key ${JSON.stringify(k)} (first at line ${first}); YAML keeps only one of them`);
        seen.set(k, line);
      }
    },
  });
}

const INI_HINT =
  'this looks like an INI inventory in a file named as YAML/JSON (Ansible reads such files only as YAML): rename it without the extension, or convert it with "ansible-inventory -i FILE --list -y > inventory.yaml"';

export function looksLikeIni(text: string): boolean {
  const first = text.split('\n').find((l) => l.trim() && !/^\s*[#;]/.test(l));
  return first !== undefined && (/^\s*\[[\w.:-]+\]\s*$/.test(first) || /^\s*[^\s:#]+\s+\w+=/.test(first));
}

function openingQuoteLine(text: string, quote: string, fallback: number): number {
  const lines = text.split('\n');
  let open = false;
  let opened = fallback;
  for (let i = 0; i < Math.min(lines.length, fallback); i++) {
    const n = (lines[i] ?? '').replace(quote === '"' ? /\\./g : /''/g, '').split(quote).length - 1;
    if (n % 2 === 1) {
      if (!open) opened = i + 1;
      open = !open;
    }
  }
  return open ? opened : fallback;
}
