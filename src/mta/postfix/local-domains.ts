// postfix's local domains: mydestination, virtual_*_domains and relay_domains from postconf
// (tables of an enumerable type are listed with `postmap -s` in round trip 2).
import { addItem, SECTION } from '../local-domains.js';
import { sh, type Sh } from '../../transport/quote.js';
import type { ConfiguredLists, LocalDomainsSource } from '../local-domains-source.js';

const POSTFIX_ENUMERABLE = new Set(['hash', 'btree', 'lmdb', 'cdb', 'dbm', 'sdbm']);

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

export const postfixLocalDomains: LocalDomainsSource = {
  name: 'postfix',
  commandLines: (): Sh[] => [
    sh`echo ${`${SECTION} postfix`}`,
    sh`postconf -x mydestination virtual_mailbox_domains virtual_alias_domains relay_domains 2>/dev/null || postconf mydestination virtual_mailbox_domains virtual_alias_domains relay_domains myhostname mydomain 2>&1`,
  ],
  parseSection(s, out) {
    if (s.name !== 'postfix') return false;
    const vals = new Map<string, string>();
    for (const l of s.lines) {
      const m = /^([a-z_]+) = ?(.*)$/.exec(l);
      if (m) vals.set(m[1]!, m[2]!);
    }
    if (!vals.has('mydestination')) {
      out.ld.unknown.push('postfix: mydestination not reported by postconf');
      return true;
    }
    // Without -x (postfix < 2.10) expand the two parameters mydestination uses by default.
    const expand = (v: string) => v.replace(/\$\{?(myhostname|mydomain)\}?/g, (_m, n: string) => vals.get(n) ?? `$${n}`);
    for (const [k, v] of vals) {
      if (k === 'myhostname' || k === 'mydomain') continue;
      postfixList(out, expand(v), k === 'relay_domains');
    }
    out.ld.sources.push('postconf mydestination virtual_mailbox_domains virtual_alias_domains relay_domains');
    return true;
  },
};
