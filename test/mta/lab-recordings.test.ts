// Every queue parser on the raw tool output recorded from the real lab servers (`test/lab/lab record`):
// counts must equal the MTA's own count and what was seeded.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEximBp, parseEximBpc } from '../../src/mta/exim/listing.js';
import { parseEximSpoolHeader } from '../../src/mta/exim/envelope.js';
import { parsePostqueueJson, parsePostqueueP } from '../../src/mta/postfix/listing.js';
import { parseMailq } from '../../src/mta/sendmail/listing.js';
import type { QueueListing } from '../../src/mta/types.js';

const LAB = 'test/fixtures/lab';
interface Meta {
  host: string;
  mta: string;
  queue: { total: number; spam: number; spamRecipients: number; backscatter: number; frozen: number };
  samples: Record<string, 'spam' | 'legit' | 'bounce'>;
  compromisedAuthId: string;
}
const meta = (h: string) => JSON.parse(readFileSync(join(LAB, h, 'meta.json'), 'utf8')) as Meta;
const read = (h: string, f: string) => readFileSync(join(LAB, h, f), 'utf8');
const bounces = (l: QueueListing) => l.messages.filter((m) => m.bounce).length;

describe.each(['bookworm-exim', 'trixie-exim'])('exim on %s', (host) => {
  const m = meta(host);
  const l = parseEximBp(read(host, 'exim-bp.txt'));
  it('parses exim -bp exactly as exim -bpc counts', () => {
    expect(parseEximBpc(read(host, 'exim-bpc.txt')).count).toBe(m.queue.total);
    expect(l.messages).toHaveLength(m.queue.total);
    expect(l.warnings).toEqual([]);
    expect(l.messages.filter((x) => x.frozen)).toHaveLength(m.queue.frozen);
    expect(bounces(l)).toBe(m.queue.backscatter);
  });
  it(`reads ${host === 'trixie-exim' ? '23' : '16'}-character message ids`, () => {
    for (const x of l.messages) expect(x.id).toHaveLength(host === 'trixie-exim' ? 23 : 16);
  });
  it('reads -auth_id / --auth_id from real spool -H files', () => {
    for (const [id, kind] of Object.entries(m.samples)) {
      const h = parseEximSpoolHeader(read(host, `spool/${id}-H`));
      expect(h.id).toBe(id);
      if (kind === 'spam') expect(h.authId).toBe(m.compromisedAuthId);
      if (kind === 'legit') expect(h.authId).toMatch(/^(alice|carol|dave)@/);
      if (kind === 'bounce') {
        expect(h.sender).toBe('');
        expect(h.authId).toBeUndefined();
      }
    }
  });
});

describe('postfix on bookworm-postfix', () => {
  const m = meta('bookworm-postfix');
  it('postqueue -j and postqueue -p agree with the footer and the seed', () => {
    const j = parsePostqueueJson(read('bookworm-postfix', 'postqueue-j.jsonl'), Date.parse('2026-11-23T05:00:00Z') / 1000);
    const p = parsePostqueueP(read('bookworm-postfix', 'postqueue-p.txt'), { nowSeconds: Date.parse('2026-11-23T05:00:00Z') / 1000 });
    expect(j.messages).toHaveLength(m.queue.total);
    expect(p.messages).toHaveLength(m.queue.total);
    expect(p.reportedTotal).toBe(m.queue.total);
    expect(bounces(j)).toBe(m.queue.backscatter);
    expect(bounces(p)).toBe(m.queue.backscatter);
    expect(new Set(j.messages.map((x) => x.id))).toEqual(new Set(p.messages.map((x) => x.id)));
    expect(j.warnings).toEqual([]);
  });
});

describe('sendmail on bookworm-sendmail', () => {
  const m = meta('bookworm-sendmail');
  it('mailq with Debian’s MSP and MTA sections', () => {
    const l = parseMailq(read('bookworm-sendmail', 'mailq.txt'), { nowSeconds: Date.parse('2026-11-23T05:00:00Z') / 1000 });
    expect(l.messages).toHaveLength(m.queue.total);
    expect(l.reportedTotal).toBe(m.queue.total);
    expect(bounces(l)).toBe(m.queue.backscatter);
  });
});

it('has recordings of every lab host', () => {
  expect(
    readdirSync(LAB)
      .filter((d) => !d.endsWith('-quiet'))
      .sort(),
  ).toEqual(['bookworm-exim', 'bookworm-postfix', 'bookworm-sendmail', 'trixie-exim']);
});
