// Real logs recorded from the lab's exim, postfix and sendmail (test/fixtures/lab/<host>/,
// meta.json lists what the excerpt holds): per-account counts must match exactly.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuthAggregator } from '../../src/logs/aggregate.js';
import { ADAPTERS } from '../../src/mta/index.js';
import type { MtaName } from '../../src/mta/types.js';

const LAB = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'lab');

interface Meta {
  host: string;
  mta: MtaName;
  compromisedAuthId: string;
  legitUsers: string[];
  log: { file: string; authenticatedArrivalsByAuthId: Record<string, number>; nullSenderArrivals: number };
  /** The seeding plan: the client addresses each account sent from (IPv4 and ::1). */
  clientAddressesByAuthId?: Record<string, string[]>;
}
// Raw recordings (`lab record`) have meta.json; *-quiet dirs hold only mailsweep's own command outputs.
const metas = readdirSync(LAB)
  .filter((h) => existsSync(join(LAB, h, 'meta.json')))
  .map((h) => JSON.parse(readFileSync(join(LAB, h, 'meta.json'), 'utf8')) as Meta);

describe('real lab logs', () => {
  it('cover exim, postfix and sendmail', () => {
    expect(new Set(metas.map((m) => m.mta))).toEqual(new Set(['exim', 'postfix', 'sendmail']));
  });

  it.each(metas.map((m) => [m.host, m] as const))('%s: authenticated messages per account, exactly', (host, m) => {
    const agg = new AuthAggregator();
    const parser = ADAPTERS[m.mta].logs.create({ year: 2026 });
    for (const line of readFileSync(join(LAB, host, m.log.file), 'utf8').split('\n')) parser.feed(line, agg);
    parser.end(agg);
    // The excerpt is cut (first 300 + last 150 lines): a login whose from= line fell in the cut
    // is an unconfirmed login, not a message; the lab counted logins.
    const got = Object.fromEntries(agg.result().map((u) => [u.authId, u.messages + u.unconfirmed]));
    expect(got).toEqual(m.log.authenticatedArrivalsByAuthId);
    expect(agg.result()[0]?.authId).toBe(m.compromisedAuthId);
  });

  it.each(metas.map((m) => [m.host, m] as const))(
    '%s: client addresses per account, IPv6 in one spelling, many-ips only for the botnet',
    (host, m) => {
      const plan = m.clientAddressesByAuthId;
      expect(plan, 'meta.json from a lab that seeds from several client addresses').toBeDefined();
      const agg = new AuthAggregator();
      const parser = ADAPTERS[m.mta].logs.create({ year: 2026 });
      for (const line of readFileSync(join(LAB, host, m.log.file), 'utf8').split('\n')) parser.feed(line, agg);
      parser.end(agg);
      for (const u of agg.result()) {
        // Every address seen is one the plan sent from, in its canonical form (sendmail writes ::1
        // as IPv6:0:0:0:0:0:0:0:1; exim and postfix as ::1).
        expect(
          u.clientIps.every((ip) => plan![u.authId]!.includes(ip)),
          `${u.authId}: ${u.clientIps.join(' ')}`,
        ).toBe(true);
      }
      const bob = agg.result().find((u) => u.authId === m.compromisedAuthId)!;
      // The excerpt keeps the start of the burst, where every source takes its turn.
      expect(new Set(bob.clientIps)).toEqual(new Set(plan![m.compromisedAuthId]));
      expect(bob.clientIps).toContain('::1');
      for (const legit of m.legitUsers) expect(agg.result().find((u) => u.authId === legit)?.clientIps.length ?? 0).toBeLessThan(5);
    },
  );
});
