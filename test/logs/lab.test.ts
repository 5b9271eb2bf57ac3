// Real logs recorded by the lab (test/fixtures/lab/<host>/, with meta.json naming the compromised
// auth id and its counts). Skipped while the lab has not recorded anything.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuthAggregator } from '../../src/logs/aggregate.js';
import { LOG_PARSERS } from '../../src/logs/index.js';
import { MTA_NAMES, type MtaName } from '../../src/mta/types.js';

const LAB = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'lab');
const hosts = existsSync(LAB) ? readdirSync(LAB).filter((h) => existsSync(join(LAB, h, 'meta.json'))) : [];

type Meta = Record<string, unknown>;
const pick = (m: Meta, ...paths: string[]): unknown => {
  for (const p of paths) {
    let v: unknown = m;
    for (const k of p.split('.')) v = v && typeof v === 'object' ? (v as Meta)[k] : undefined;
    if (v !== undefined) return v;
  }
  return undefined;
};

describe.skipIf(hosts.length === 0)('lab logs', () => {
  for (const host of hosts) {
    it(`${host}: the compromised account is the top user`, () => {
      const meta = JSON.parse(readFileSync(join(LAB, host, 'meta.json'), 'utf8')) as Meta;
      const mta = (MTA_NAMES.find((n) => host.includes(n)) ?? pick(meta, 'mta')) as MtaName;
      const authId = pick(meta, 'compromisedAuthId', 'compromised.authId', 'compromised', 'authId') as string;
      const nowSeconds = Number(pick(meta, 'nowSeconds', 'recordedAt') ?? Math.floor(Date.now() / 1000));
      const agg = new AuthAggregator();
      const parser = LOG_PARSERS[mta].create({ nowSeconds });
      const files = readdirSync(join(LAB, host)).filter((f) => f !== 'meta.json' && statSync(join(LAB, host, f)).isFile());
      for (const f of files.sort()) {
        const raw = readFileSync(join(LAB, host, f));
        const text = (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
        for (const line of text.split('\n')) parser.feed(line, agg);
      }
      parser.end(agg);
      const [top] = agg.result();
      expect(top?.authId).toBe(authId);
      const messages = pick(meta, 'messages', 'compromised.messages', 'counts.messages');
      if (typeof messages === 'number') expect(top?.messages).toBe(messages);
      const recipients = pick(meta, 'recipients', 'compromised.recipients', 'counts.recipients');
      if (typeof recipients === 'number') expect(top?.recipients).toBe(recipients);
    });
  }
  it.skipIf(hosts.length > 0)('no lab recordings yet', () => {});
});
