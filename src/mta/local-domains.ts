// The host's own domains, read from the MTA's configuration over SSH. A bounce is backscatter
// only when it goes to a FOREIGN address, and "foreign" must be proven: a domain list that names
// a lookup mailsweep cannot list (SQL, LDAP, regex, DNS) leaves foreignness unprovable.
//
// Two round trips: the configured lists (exim `-bP +local_domains`, postconf, sendmail's class w,
// qmail's control files, cPanel's /etc/localdomains …), then the files, directories and tables
// those lists name (paths on stdin, never in the command).

import { splitLines } from './util.js';
import { pathLine } from './util.js';
import type { MtaContext, MtaName, ReadPlan } from './types.js';

export interface LocalDomains {
  /** Exact domains, lower-case. */
  exact: Set<string>;
  /** Suffixes (".example.com" for "*.example.com" / postfix ".example.com"), lower-case. */
  suffixes: string[];
  /** List items that cannot be enumerated: while any is present, no domain is proven foreign. */
  unknown: string[];
  /** Where the domains came from, for the report. */
  sources: string[];
}

export function emptyLocalDomains(): LocalDomains {
  return { exact: new Set(), suffixes: [], unknown: [], sources: [] };
}

export function addDomains(ld: LocalDomains, domains: Iterable<string>, source?: string): LocalDomains {
  let n = 0;
  for (const d of domains) {
    const x = d.trim().toLowerCase().replace(/\.$/, '');
    if (x) {
      ld.exact.add(x);
      n++;
    }
  }
  if (source && n) ld.sources.push(source);
  return ld;
}

export function isLocalDomain(ld: LocalDomains, domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  return ld.exact.has(d) || ld.suffixes.some((s) => d.endsWith(s) && d.length > s.length);
}

/**
 * Proven foreign: a real domain name, not one of the host's own, and the host's lists are fully
 * known. An address literal ([192.0.2.1]) or a host with unlistable lookups is never proven foreign.
 */
export function provenForeign(ld: LocalDomains, domain: string | null): boolean {
  if (!domain || ld.unknown.length > 0) return false;
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/i.test(domain)) return false;
  return !isLocalDomain(ld, domain);
}

// ---------------------------------------------------------------------------
// Round trip 1: the configured lists.

const SECTION = '__MAILSWEEP_LD__';

/** cPanel keeps its domain lists here (exim reads them with lsearch); harmless where absent. */
const CPANEL_FILES = ['/etc/localdomains', '/etc/virtualdomains', '/etc/secondarymx'];

/** Print each cPanel-style file as a section (its name, then its lines). */
const catFiles = (files: string[]) => files.map((f) => `if [ -r '${f}' ]; then echo '${SECTION} file ${f}'; cat '${f}'; fi`).join('\n');

export function localDomainsCommand(mta: MtaName, ctx: MtaContext): string {
  const lines = [pathLine('/usr/lib')];
  if (mta === 'exim') {
    const bin = ctx.binary && /^\/[\w./-]+$/.test(ctx.binary) ? ctx.binary : 'exim';
    lines.push(
      `x=${bin}; command -v "$x" >/dev/null 2>&1 || x=exim4`,
      `echo '${SECTION} exim'`,
      `"$x" -bP primary_hostname +local_domains +relay_to_domains 2>&1`,
      catFiles(CPANEL_FILES),
    );
  } else if (mta === 'postfix') {
    lines.push(
      `echo '${SECTION} postfix'`,
      `postconf -x mydestination virtual_mailbox_domains virtual_alias_domains relay_domains 2>/dev/null || postconf mydestination virtual_mailbox_domains virtual_alias_domains relay_domains myhostname mydomain 2>&1`,
    );
  } else if (mta === 'sendmail') {
    const sm = ctx.binary && /^\/[\w./-]+$/.test(ctx.binary) && !/mailq$/.test(ctx.binary) ? ctx.binary : 'sendmail';
    // -bt ends on a bare "> " prompt: the echo ends that line so the next marker stands alone.
    lines.push(`echo '${SECTION} sendmail'`, `printf '$=w\\n$=R\\n' | ${sm} -bt 2>&1; echo`);
  } else {
    const c = `${ctx.qmailDir}/control`;
    if (!/^\/[\w./-]+$/.test(c)) throw new Error(`bad qmail directory ${c}`);
    lines.push(catFiles(['me', 'locals', 'virtualdomains', 'rcpthosts', 'morercpthosts'].map((f) => `${c}/${f}`)));
  }
  lines.push(`echo '${SECTION} end'`);
  return lines.join('\n');
}

/** A list item that names more data to fetch in round trip 2. */
export interface ListFetch {
  /** 'keys': a lookup file (first word per line); 'items': a file of list items; 'dir': entries; 'postmap': a postfix table. */
  how: 'keys' | 'items' | 'dir' | 'postmap';
  path: string;
  /** postfix lists treat "example.com" as also covering subdomains for some parameters. */
  subdomains?: boolean;
}

export interface ConfiguredLists {
  ld: LocalDomains;
  fetch: ListFetch[];
}

const POSTFIX_ENUMERABLE = new Set(['hash', 'btree', 'lmdb', 'cdb', 'dbm', 'sdbm']);

function addItem(out: ConfiguredLists, raw: string, opts: { suffixToo?: boolean } = {}): void {
  const item = raw.trim();
  if (!item || item.startsWith('#')) return;
  const d = item.toLowerCase();
  if (d.startsWith('.')) out.ld.suffixes.push(d);
  else if (d.startsWith('*.')) out.ld.suffixes.push(d.slice(1));
  else if (/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(d)) {
    out.ld.exact.add(d);
    if (opts.suffixToo) out.ld.suffixes.push(`.${d}`);
  } else out.ld.unknown.push(item);
}

/** One exim domain list (`@:localhost:lsearch;/etc/localdomains`, or `<; …` with its own separator). */
function eximList(out: ConfiguredLists, value: string, primary: string | null): void {
  let v = value.trim();
  let sep = ':';
  const m = /^<\s*(\S)\s*/.exec(v);
  if (m) {
    sep = m[1]!;
    v = v.slice(m[0].length);
  }
  // A doubled separator is the separator itself inside an item ("lsearch;;/file" in a "<;" list).
  for (const raw of v.split(sep + sep).map((part) => part.split(sep)).reduce<string[]>((acc, parts, i) => {
    if (i > 0 && acc.length) acc[acc.length - 1] += sep + (parts.shift() ?? '');
    return acc.concat(parts);
  }, [])) {
    const it = raw.trim();
    if (!it) continue;
    if (it.startsWith('!')) continue; // a negation only makes fewer domains local: ignoring it is the safe side
    if (it === '@') {
      if (primary) out.ld.exact.add(primary.toLowerCase());
      else out.ld.unknown.push(it);
      continue;
    }
    if (it === '@[]') continue; // address literals are never proven foreign anyway
    const lk = /^(partial\d*-)?([a-z]+)(\*@?)?(,[^;]*)?;\s*(.+)$/i.exec(it);
    if (lk) {
      const type = lk[2]!.toLowerCase();
      const arg = lk[5]!.trim();
      if ((type === 'lsearch' || type === 'wildlsearch' || type === 'nwildlsearch') && arg.startsWith('/')) out.fetch.push({ how: 'keys', path: arg });
      else if (type === 'dsearch' && arg.startsWith('/')) out.fetch.push({ how: 'dir', path: arg });
      else out.ld.unknown.push(it);
      continue;
    }
    if (it.startsWith('/')) {
      out.fetch.push({ how: 'items', path: it });
      continue;
    }
    if (it.startsWith('^') || it.startsWith('$') || it.startsWith('@') || it.startsWith('+')) {
      out.ld.unknown.push(it);
      continue;
    }
    if (it.startsWith('*') && !it.startsWith('*.')) {
      out.ld.suffixes.push(it.slice(1).toLowerCase());
      continue;
    }
    addItem(out, it);
  }
}

/** postfix list: comma/space separated; `type:table`, `/file`, `.sub`, names. */
function postfixList(out: ConfiguredLists, value: string, subdomains: boolean): void {
  // inline:{ a, b } tables hold their keys right here.
  const inlined = value.replace(/inline:\{([^}]*)\}/g, (_m, body: string) => {
    for (const kv of body.split(/[,\s]+/)) {
      const k = kv.split('=')[0];
      if (k) addItem(out, k, { suffixToo: subdomains });
    }
    return ' ';
  });
  for (const it of inlined.split(/[\s,]+/)) {
    if (!it) continue;
    if (it.startsWith('!')) continue;
    const t = /^([a-z0-9_]+):(.+)$/.exec(it);
    if (t) {
      if (POSTFIX_ENUMERABLE.has(t[1]!) && t[2]!.startsWith('/')) out.fetch.push({ how: 'postmap', path: it, subdomains });
      else if (t[1] === 'texthash' && t[2]!.startsWith('/')) out.fetch.push({ how: 'keys', path: t[2]!, subdomains });
      else out.ld.unknown.push(it);
      continue;
    }
    if (it.startsWith('/')) {
      out.fetch.push({ how: 'items', path: it, subdomains });
      continue;
    }
    if (it.includes('$')) {
      out.ld.unknown.push(it);
      continue;
    }
    addItem(out, it, { suffixToo: subdomains });
  }
}

/** Sections of round trip 1's output. */
function sectionsOf(stdout: string): { name: string; lines: string[] }[] {
  const out: { name: string; lines: string[] }[] = [];
  for (const line of splitLines(stdout)) {
    if (line.startsWith(`${SECTION} `)) out.push({ name: line.slice(SECTION.length + 1), lines: [] });
    else out[out.length - 1]?.lines.push(line);
  }
  return out;
}

/** Keys of a lookup file (exim lsearch, cPanel's `domain: user` files): the first word of each line. */
function fileKeys(lines: string[]): string[] {
  const keys: string[] = [];
  for (const l of lines) {
    if (/^\s*(#|$)/.test(l) || /^\s/.test(l)) continue;
    const k = /^"([^"]*)"|^([^:\s]+)/.exec(l);
    const key = k?.[1] ?? k?.[2];
    if (key) keys.push(key);
  }
  return keys;
}

export function parseConfiguredLists(mta: MtaName, stdout: string): ConfiguredLists {
  const out: ConfiguredLists = { ld: emptyLocalDomains(), fetch: [] };
  const secs = sectionsOf(stdout);
  if (!secs.some((s) => s.name === 'end')) out.ld.unknown.push(`${mta}: configuration not read (output incomplete)`);
  for (const s of secs) {
    if (s.name === 'exim') {
      const primary = s.lines.map((l) => /^primary_hostname = (.*)$/.exec(l)?.[1]).find(Boolean) ?? null;
      let seen = 0;
      for (const l of s.lines) {
        const m = /^domainlist (local_domains|relay_to_domains) = ?(.*)$/.exec(l);
        if (!m) continue;
        seen++;
        eximList(out, m[2]!, primary);
      }
      if (!seen) out.ld.unknown.push('exim: local_domains not reported by exim -bP');
      else out.ld.sources.push('exim -bP +local_domains +relay_to_domains');
    } else if (s.name === 'postfix') {
      const vals = new Map<string, string>();
      for (const l of s.lines) {
        const m = /^([a-z_]+) = ?(.*)$/.exec(l);
        if (m) vals.set(m[1]!, m[2]!);
      }
      if (!vals.has('mydestination')) {
        out.ld.unknown.push('postfix: mydestination not reported by postconf');
        continue;
      }
      // Without -x (postfix < 2.10) expand the two parameters mydestination uses by default.
      const expand = (v: string) => v.replace(/\$\{?(myhostname|mydomain)\}?/g, (_m, n: string) => vals.get(n) ?? `$${n}`);
      for (const [k, v] of vals) {
        if (k === 'myhostname' || k === 'mydomain') continue;
        postfixList(out, expand(v), k === 'relay_domains');
      }
      out.ld.sources.push('postconf mydestination virtual_mailbox_domains virtual_alias_domains relay_domains');
    } else if (s.name === 'sendmail') {
      const text = s.lines.join('\n');
      const at = text.indexOf('Enter <ruleset> <address>');
      if (at < 0) {
        out.ld.unknown.push('sendmail: class w not read (sendmail -bt failed)');
        continue;
      }
      // After the banner: "> " prompt, class w's members, "> " prompt, class R's members, "> ".
      let idx = 0;
      for (let l of text.slice(at).split('\n').slice(1)) {
        while (l.startsWith('> ') || l === '>') {
          idx++;
          l = l.slice(2);
        }
        const it = l.trim();
        if ((idx === 1 || idx === 2) && it !== '' && !it.startsWith('[')) addItem(out, it);
      }
      out.ld.sources.push('sendmail -bt $=w $=R');
    } else if (s.name.startsWith('file ')) {
      const f = s.name.slice(5);
      const base = f.slice(f.lastIndexOf('/') + 1);
      if (base === 'virtualdomains' && !f.startsWith('/etc/')) {
        // qmail: "domain:prepend", ".sub.domain:prepend", ":prepend" (every other domain).
        for (const l of s.lines) {
          if (/^\s*(#|$)/.test(l)) continue;
          const d = l.slice(0, l.indexOf(':') < 0 ? l.length : l.indexOf(':')).trim();
          if (d === '') out.ld.unknown.push('qmail virtualdomains: a catch-all ":prepend" line');
          else addItem(out, d);
        }
      } else if (f.startsWith('/etc/')) for (const k of fileKeys(s.lines)) addItem(out, k);
      else for (const l of s.lines) addItem(out, l);
      out.ld.sources.push(f);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Round trip 2: the files, directories and postfix tables the lists name (paths on stdin).

const FETCH = '__MAILSWEEP_LDF__';

export function fetchListsCommand(): string {
  return [
    pathLine(),
    `while IFS=' ' read -r how p; do echo "${FETCH} $how $p"; case "$how" in`,
    `  dir) ls -1 -- "$p" 2>&1 ;;`,
    `  postmap) postmap -s -- "$p" 2>&1 || postmap -s "$p" 2>&1 ;;`,
    `  *) cat -- "$p" 2>&1 ;;`,
    `esac; echo "${FETCH} rc $?"; done`,
  ].join('\n');
}

export function fetchListsStdin(fetch: ListFetch[]): string {
  // Paths come from the server's own configuration; a newline in one could not be a real path here.
  return fetch.filter((f) => !/[\n\r]/.test(f.path)).map((f) => `${f.how} ${f.path}\n`).join('');
}

export function applyFetched(lists: ConfiguredLists, stdout: string): LocalDomains {
  const ld = lists.ld;
  const byKey = new Map(lists.fetch.map((f) => [`${f.how} ${f.path}`, f]));
  let cur: ListFetch | null = null;
  let buf: string[] = [];
  const flush = (rc: number) => {
    if (!cur) return;
    const out: ConfiguredLists = { ld, fetch: [] };
    if (rc !== 0) ld.unknown.push(`${cur.path}: cannot be read (${buf[0] ?? `exit ${rc}`})`);
    else if (cur.how === 'dir') for (const e of buf) addItem(out, e, { suffixToo: cur.subdomains });
    else if (cur.how === 'keys') for (const k of fileKeys(buf)) addItem(out, k, { suffixToo: cur.subdomains });
    else if (cur.how === 'postmap') for (const l of buf) addItem(out, l.split(/\s+/)[0] ?? '', { suffixToo: cur.subdomains });
    else for (const l of buf) addItem(out, l.replace(/#.*$/, ''), { suffixToo: cur.subdomains });
    if (rc === 0) ld.sources.push(cur.path);
    cur = null;
    buf = [];
  };
  const seen = new Set<string>();
  for (const line of splitLines(stdout)) {
    if (line.startsWith(`${FETCH} rc `)) {
      flush(Number(line.slice(FETCH.length + 4)) || 0);
      continue;
    }
    if (line.startsWith(`${FETCH} `)) {
      cur = byKey.get(line.slice(FETCH.length + 1)) ?? null;
      if (cur) seen.add(`${cur.how} ${cur.path}`);
      buf = [];
      continue;
    }
    buf.push(line);
  }
  for (const k of byKey.keys()) if (!seen.has(k)) ld.unknown.push(`${k.slice(k.indexOf(' ') + 1)}: not read`);
  return ld;
}

export interface LocalDomainsReader {
  exec(command: string, stdin?: string): Promise<{ stdout: string; code: number | null }>;
}

/** Both round trips. Never throws for server trouble: an unreadable list leaves `unknown` set. */
export async function readLocalDomains(mta: MtaName, ctx: MtaContext, run: LocalDomainsReader): Promise<LocalDomains> {
  const first = await run.exec(localDomainsCommand(mta, ctx));
  const lists = parseConfiguredLists(mta, first.stdout);
  if (!lists.fetch.length) return lists.ld;
  const second = await run.exec(fetchListsCommand(), fetchListsStdin(lists.fetch));
  return applyFetched(lists, second.stdout);
}

/** A ReadPlan form for callers that run plans (the pure parts, for tests). */
export function localDomainsPlan(mta: MtaName, ctx: MtaContext): ReadPlan<ConfiguredLists> {
  return { command: localDomainsCommand(mta, ctx), parse: (stdout) => parseConfiguredLists(mta, stdout) };
}
