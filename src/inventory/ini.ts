// Ansible's INI inventory form → the same raw groups and hosts as yaml.ts: [group] host lines with
// key=value vars, [group:vars], [group:children]; hosts before any section are ungrouped.

import { fail, seg } from './fail.js';
import { parseHostKey, type HostKey } from './host-range.js';
import type { RawGroup, RawHost, RawInventory } from './yaml.js';

/** Ansible's _parse_value (ast.literal_eval, else the text): numbers, True/False/None, quoted strings. */
function iniValue(v: string): unknown {
  const s = v.trim();
  // Python 3 has no leading-zero integers: "010" stays text.
  if (/^[-+]?(?:0+|[1-9]\d*)$/.test(s)) return Number(s);
  if (/^[-+]?(?:(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)$/.test(s)) return Number(s);
  if (s === 'True' || s === 'False') return s === 'True';
  if (s === 'None') return null;
  const q = /^(['"])(.*)\1$/s.exec(s);
  if (q) return q[2];
  // Python list and dict literals ("['a.example', 'b.example']"), as far as JSON can read them.
  if (/^[[{].*[\]}]$/s.test(s)) {
    for (const t of [s, s.replace(/'/g, '"')]) {
      try {
        return JSON.parse(t) as unknown;
      } catch {
        // not JSON: try the next form, else it stays text, as in Ansible
      }
    }
  }
  return s;
}

/** shlex.split(line, comments=True): words, quotes removed, # starts a comment outside quotes. */
function shlexSplit(line: string, bad: (m: string) => never): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur = (cur ?? '') + line[++i];
      else cur = (cur ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur ??= '';
    } else if (c === '\\' && i + 1 < line.length) cur = (cur ?? '') + line[++i];
    else if (c === '#') break;
    else if (/\s/.test(c)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else cur = (cur ?? '') + c;
  }
  if (quote) bad(`unclosed ${quote} quote`);
  if (cur !== undefined) out.push(cur);
  return out;
}

export function parseIniInventory(text: string, file: string): RawInventory {
  const inv: RawInventory = { file, groups: new Map(), hosts: new Map() };
  const group = (name: string, line: number): RawGroup => {
    let g = inv.groups.get(name);
    if (!g) inv.groups.set(name, (g = { name, file, line, vars: new Map(), hosts: [], children: [] }));
    return g;
  };
  let current = group('ungrouped', 1);
  let state: 'hosts' | 'vars' | 'children' = 'hosts';
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const l = raw.trim();
    if (!l || l.startsWith('#') || l.startsWith(';')) return;
    const bad = (m: string): never => fail(file, line, '', m);
    const sec = /^\[([^\]]+)\]$/.exec(l);
    if (sec) {
      const [name, kind = 'hosts', extra] = sec[1]!.split(':');
      if (extra !== undefined || !name || !['hosts', 'vars', 'children'].includes(kind))
        bad(`section [${sec[1]}]: expected [group], [group:vars] or [group:children]`);
      current = group(name!, line);
      state = kind as typeof state;
      return;
    }
    if (state === 'vars') {
      const eq = l.indexOf('=');
      if (eq < 1) bad(`[${current.name}:vars] expects "key=value", got ${JSON.stringify(l)}`);
      const k = l.slice(0, eq).trim();
      current.vars.set(k, { value: iniValue(l.slice(eq + 1)), file, line, path: `groups.${seg(current.name)}.vars.${seg(k)}` });
      return;
    }
    const words = shlexSplit(l, bad);
    if (state === 'children') {
      if (words.length !== 1) bad(`[${current.name}:children] expects one group name per line, got ${JSON.stringify(l)}`);
      group(words[0]!, line);
      current.children.push({ name: words[0]!, file, line });
      return;
    }
    const [key, ...assignments] = words;
    let parsed: HostKey;
    try {
      parsed = parseHostKey(key!);
    } catch (e) {
      return bad((e as Error).message);
    }
    for (const name of parsed.names) {
      let h: RawHost | undefined = inv.hosts.get(name);
      if (!h) inv.hosts.set(name, (h = { name, file, line, vars: new Map(), groups: [] }));
      if (!h.groups.includes(current.name)) {
        h.groups.push(current.name);
        current.hosts.push(name);
      }
      const prefix = `hosts.${seg(name)}`;
      if (parsed.port !== undefined) h.vars.set('ansible_port', { value: parsed.port, file, line, path: prefix });
      for (const a of assignments) {
        const eq = a.indexOf('=');
        if (eq < 1) bad(`host ${name}: expected key=value after the host name, got ${JSON.stringify(a)}`);
        const k = a.slice(0, eq);
        h.vars.set(k, { value: iniValue(a.slice(eq + 1)), file, line, path: `${prefix}.${seg(k)}` });
      }
    }
  });
  // Sections that only list hosts by position still exist when empty, as in Ansible; "ungrouped" only if used.
  if (
    inv.groups.get('ungrouped')?.hosts.length === 0 &&
    ![...inv.groups.values()].some((g) => g.children.some((c) => c.name === 'ungrouped'))
  )
    inv.groups.delete('ungrouped');
  return inv;
}
