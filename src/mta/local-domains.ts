// The host's own domains, read from the MTA's configuration over SSH. A bounce is backscatter
// only when it goes to a FOREIGN address, and "foreign" must be proven: a domain list that names
// a lookup mailsweep cannot list (SQL, LDAP, regex, DNS) leaves foreignness unprovable.
//
// Two round trips: the configured lists (exim `-bP +local_domains`, postconf, sendmail's class w,
// qmail's control files, cPanel's /etc/localdomains …: each MTA's part is its local-domains.ts),
// then the files, directories and tables
// those lists name (paths on stdin, never in the command).

import { splitLines } from './util.js';
import { pathLine } from './util.js';
import { serverScript } from './script.js';
import { sh, shLines, type Sh } from '../transport/quote.js';
import type { ConfiguredLists, ListFetch, LocalDomains, LocalDomainsSource } from './local-domains-source.js';
import type { MtaContext, ReadPlan } from './types.js';

export type { ConfiguredLists, ListFetch, LocalDomains, LocalDomainsSource } from './local-domains-source.js';

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

export const SECTION = '__MAILSWEEP_LD__';

/** cPanel keeps its domain lists here (exim reads them with lsearch); harmless where absent. */
export const CPANEL_FILES = ['/etc/localdomains', '/etc/virtualdomains', '/etc/secondarymx'];

/** Print each file as a section (its name, then its lines): cPanel's lists, qmail's control files. */
export const catFiles = (files: readonly string[]): Sh =>
  shLines(...files.map((f) => sh`if [ -r ${f} ]; then echo ${`${SECTION} file ${f}`}; cat ${f}; fi`));

export function addItem(out: ConfiguredLists, raw: string, opts: { suffixToo?: boolean } = {}): void {
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
export function fileKeys(lines: string[]): string[] {
  const keys: string[] = [];
  for (const l of lines) {
    if (/^\s*(#|$)/.test(l) || /^\s/.test(l)) continue;
    const k = /^"([^"]*)"|^([^:\s]+)/.exec(l);
    const key = k?.[1] ?? k?.[2];
    if (key) keys.push(key);
  }
  return keys;
}

export function localDomainsCommand(source: LocalDomainsSource, ctx: MtaContext): Sh {
  return shLines(pathLine('/usr/lib'), ...source.commandLines(ctx), sh`echo ${`${SECTION} end`}`);
}

export function parseConfiguredLists(source: LocalDomainsSource, stdout: string): ConfiguredLists {
  const out: ConfiguredLists = { ld: emptyLocalDomains(), fetch: [] };
  const secs = sectionsOf(stdout);
  if (!secs.some((s) => s.name === 'end')) out.ld.unknown.push(`${source.name}: configuration not read (output incomplete)`);
  for (const s of secs) {
    if (s.name === 'end' || source.parseSection(s, out) || !s.name.startsWith('file ')) continue;
    // A list file: cPanel's `domain: user` lookups in /etc, else one item a line.
    const f = s.name.slice(5);
    if (f.startsWith('/etc/')) for (const k of fileKeys(s.lines)) addItem(out, k);
    else for (const l of s.lines) addItem(out, l);
    out.ld.sources.push(f);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Round trip 2: the files, directories and postfix tables the lists name (paths on stdin).

const FETCH = '__MAILSWEEP_LDF__';

/** Round trip 2's command (shared/scripts/fetch-lists.sh): the requests on its stdin. */
export function fetchListsCommand(): Sh {
  return serverScript('shared/scripts/fetch-lists.sh');
}

export function fetchListsStdin(fetch: ListFetch[]): string {
  // Paths come from the server's own configuration; a newline in one could not be a real path here.
  return fetch
    .filter((f) => !/[\n\r]/.test(f.path))
    .map((f) => `${f.how} ${f.path}\n`)
    .join('');
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
  exec(command: Sh, stdin?: string): Promise<{ stdout: string; code: number | null }>;
}

/** Both round trips. Never throws for server trouble: an unreadable list leaves `unknown` set. */
export async function readLocalDomains(source: LocalDomainsSource, ctx: MtaContext, run: LocalDomainsReader): Promise<LocalDomains> {
  const first = await run.exec(localDomainsCommand(source, ctx));
  const lists = parseConfiguredLists(source, first.stdout);
  if (!lists.fetch.length) return lists.ld;
  const second = await run.exec(fetchListsCommand(), fetchListsStdin(lists.fetch));
  return applyFetched(lists, second.stdout);
}

/** A ReadPlan form for callers that run plans (the pure parts, for tests). */
export function localDomainsPlan(source: LocalDomainsSource, ctx: MtaContext): ReadPlan<ConfiguredLists> {
  return { command: localDomainsCommand(source, ctx), parse: (stdout) => parseConfiguredLists(source, stdout) };
}
