// exim's local domains: `exim -bP +local_domains +relay_to_domains` (domain lists with their
// lookups; lsearch files and dsearch directories are listed in round trip 2), and cPanel's files.
import { addItem, catFiles, CPANEL_FILES, SECTION } from '../local-domains.js';
import type { ConfiguredLists, LocalDomainsSource } from '../local-domains-source.js';
import type { MtaContext } from '../types.js';
import { raw, sh, type Sh } from '../../transport/quote.js';

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
  for (const raw of v
    .split(sep + sep)
    .map((part) => part.split(sep))
    .reduce<string[]>((acc, parts, i) => {
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
      if ((type === 'lsearch' || type === 'wildlsearch' || type === 'nwildlsearch') && arg.startsWith('/'))
        out.fetch.push({ how: 'keys', path: arg });
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

export const eximLocalDomains: LocalDomainsSource = {
  name: 'exim',
  commandLines(ctx: MtaContext): Sh[] {
    const bin = ctx.binary && /^\/[\w./-]+$/.test(ctx.binary) ? ctx.binary : 'exim';
    return [
      sh`x=${bin}; command -v "$x" >/dev/null 2>&1 || x=exim4`,
      sh`echo ${`${SECTION} exim`}`,
      sh`"$x" -bP primary_hostname +local_domains +relay_to_domains 2>&1`,
      catFiles(CPANEL_FILES),
    ];
  },
  parseSection(s, out) {
    if (s.name !== 'exim') return false;
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
    return true;
  },
};
