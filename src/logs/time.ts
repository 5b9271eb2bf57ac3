// Timestamps as mail logs write them. Pure: the "now" used to guess a syslog year is passed in.

import { monthIndex } from '../text/lines.js';
import type { LogParserOptions } from './types.js';

const TAI64_EPOCH = (1n << 62n) + 10n;

/**
 * `@4000000063a1b2c3xxxxxxxx` (multilog TAI64N) to epoch seconds, the way daemontools'
 * tai64nlocal does it: label − 2^62 − 10 (multilog writes 2^62 + 10 + unix time, so the
 * fixed 10 s TAI−UTC offset of 1970 is all there is to undo; later leap seconds are not counted).
 */
export function tai64nToEpoch(stamp: string): number | null {
  const m = /^@([0-9a-fA-F]{16})([0-9a-fA-F]{8})?$/.exec(stamp);
  if (!m) return null;
  const label = BigInt(`0x${m[1]}`);
  if (label < TAI64_EPOCH) return null;
  return Number(label - TAI64_EPOCH);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?: ?(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * `2026-11-23T04:11:44.123456+00:00` (RFC 3339), `2026-11-23 04:11:44`, `… 04:11:44.345`,
 * `… 04:11:44 +0100` (exim), `… 04:11:44.803287500` (tai64nlocal). Without a zone the time is
 * local, `tzOffsetSeconds` east of UTC. Fractions are dropped.
 */
export function isoToEpoch(text: string, tzOffsetSeconds = 0): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (date.getUTCDate() !== d) return null;
  let offset = tzOffsetSeconds;
  const zone = m[7];
  if (zone === 'Z') offset = 0;
  else if (zone !== undefined) {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (!z) return null;
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3600 + Number(z[3]) * 60);
  }
  return date.getTime() / 1000 - offset;
}

/** Parts of a yearless syslog stamp `Nov 23 04:11:44` / `Nov  3 04:11:44` / `Aug 3 15:30:49`. */
export function syslogParts(text: string): { mon: number; day: number; h: number; mi: number; s: number } | null {
  const m = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const mon = monthIndex(m[1] ?? '');
  const day = Number(m[2]);
  const h = Number(m[3]);
  const mi = Number(m[4]);
  const s = Number(m[5]);
  if (mon < 0 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return null;
  return { mon, day, h, mi, s };
}

/**
 * Turns yearless syslog stamps into epoch seconds for one stream of lines.
 * - With `nowSeconds`: the latest year that does not put the line more than a day in the
 *   future (a December line read in January belongs to last year).
 * - Else with `year`: the first line is in `year`; a jump back of more than six months
 *   (Dec → Jan) moves to the next year, a jump forward (a late Dec line after Jan) is last year.
 * - Neither: null (the caller reports it once).
 */
export class SyslogClock {
  private readonly tz: number;
  private year: number | undefined;
  private lastMon = -1;

  constructor(private readonly opts: LogParserOptions = {}) {
    this.tz = (opts.tzOffsetMinutes ?? 0) * 60;
    this.year = opts.year;
  }

  get tzOffsetSeconds(): number {
    return this.tz;
  }

  /** Epoch seconds of `Nov 23 04:11:44`, or null. */
  syslog(text: string): number | null {
    const p = syslogParts(text);
    if (!p) return null;
    const now = this.opts.nowSeconds;
    if (now !== undefined && Number.isFinite(now)) {
      const y0 = new Date((now + this.tz) * 1000).getUTCFullYear();
      for (let y = y0; y >= y0 - 4; y--) {
        const t = this.at(y, p);
        if (t !== null && t <= now + 86400) return t;
      }
      return null;
    }
    if (this.year === undefined) return null;
    let y = this.year;
    if (this.lastMon >= 0 && p.mon < this.lastMon - 6) {
      this.year += 1;
      y = this.year;
      this.lastMon = p.mon;
    } else if (this.lastMon >= 0 && p.mon > this.lastMon + 6) {
      y = this.year - 1; // a straggler from before the turn of the year
    } else this.lastMon = p.mon;
    return this.at(y, p);
  }

  /** Local wall-clock `YYYY-MM-DD HH:MM:SS` (zone optional) in this server's offset. */
  iso(text: string): number | null {
    return isoToEpoch(text, this.tz);
  }

  private at(y: number, p: { mon: number; day: number; h: number; mi: number; s: number }): number | null {
    const d = new Date(Date.UTC(y, p.mon, p.day, p.h, p.mi, p.s));
    if (d.getUTCMonth() !== p.mon) return null; // Feb 29 in a non-leap year
    return d.getTime() / 1000 - this.tz;
  }
}

/** `YYYY-MM-DD` (UTC) of epoch seconds, for per-day counts. */
export function utcDay(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}
