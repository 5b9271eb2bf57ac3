// qmail's local domains: its control files (me, locals, virtualdomains, rcpthosts, morercpthosts).
import { addItem, catFiles } from '../local-domains.js';
import type { Sh } from '../../transport/quote.js';
import type { LocalDomainsSource } from '../local-domains-source.js';
import type { MtaContext } from '../types.js';

export const qmailLocalDomains: LocalDomainsSource = {
  name: 'qmail',
  commandLines(ctx: MtaContext): Sh[] {
    const c = `${ctx.qmailDir}/control`;
    if (!/^\/[\w./-]+$/.test(c)) throw new Error(`bad qmail directory ${c}`);
    return [catFiles(['me', 'locals', 'virtualdomains', 'rcpthosts', 'morercpthosts'].map((f) => `${c}/${f}`))];
  },
  parseSection(s, out) {
    // virtualdomains: "domain:prepend", ".sub.domain:prepend", ":prepend" (every other domain).
    if (!s.name.startsWith('file ') || !s.name.endsWith('/virtualdomains') || s.name.startsWith('file /etc/')) return false;
    for (const l of s.lines) {
      if (/^\s*(#|$)/.test(l)) continue;
      const d = l.slice(0, l.indexOf(':') < 0 ? l.length : l.indexOf(':')).trim();
      if (d === '') out.ld.unknown.push('qmail virtualdomains: a catch-all ":prepend" line');
      else addItem(out, d);
    }
    out.ld.sources.push(s.name.slice(5));
    return true;
  },
};
