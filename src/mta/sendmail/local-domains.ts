// sendmail's local domains: classes w (local host names) and R (relay domains) from `sendmail -bt`.
import { addItem, SECTION } from '../local-domains.js';
import { sh, type Sh } from '../../transport/quote.js';
import type { LocalDomainsSource } from '../local-domains-source.js';
import type { MtaContext } from '../types.js';

export const sendmailLocalDomains: LocalDomainsSource = {
  name: 'sendmail',
  commandLines(ctx: MtaContext): Sh[] {
    const sm = ctx.binary && /^\/[\w./-]+$/.test(ctx.binary) && !/mailq$/.test(ctx.binary) ? ctx.binary : 'sendmail';
    // -bt ends on a bare "> " prompt: the echo ends that line so the next marker stands alone.
    return [sh`echo ${`${SECTION} sendmail`}`, sh`printf '$=w\\n$=R\\n' | ${sm} -bt 2>&1; echo`];
  },
  parseSection(s, out) {
    if (s.name !== 'sendmail') return false;
    const text = s.lines.join('\n');
    const at = text.indexOf('Enter <ruleset> <address>');
    if (at < 0) {
      out.ld.unknown.push('sendmail: class w not read (sendmail -bt failed)');
      return true;
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
    return true;
  },
};
