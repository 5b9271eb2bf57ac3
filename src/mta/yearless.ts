// yearlessLocalTime (util.ts) for a whole listing: the same answers, but the year search is done
// once per calendar day seen instead of once per message (100k messages share a few hundred days).
import { monthIndex } from '../text/lines.js';
import { yearlessLocalTime } from './util.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DATE = /^(\w{3})\s+(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const SPAN = 7;

/** What yearlessLocalTime decides for one "Www Mmm dd": the day's start (UTC epoch) in the year it picks. */
interface DayStarts {
  /** When this year's date is not in the future (or does not exist); null: no year fits. */
  withThisYear: number | null;
  /** When it is. */
  withoutThisYear: number | null;
  /** This year's day start, when this year has the date (no Feb 29 roll-over). */
  thisYear: number | null;
}

export class YearlessClock {
  private readonly year0: number;
  private readonly days = new Map<string, DayStarts | null>();
  private last: { w: string; m: string; d: string; days: DayStarts | null } = { w: '', m: '', d: '', days: null };

  constructor(
    readonly nowSeconds: number,
    private readonly tzOffsetSeconds = 0,
  ) {
    this.year0 = new Date((nowSeconds + tzOffsetSeconds) * 1000).getUTCFullYear();
  }

  /** yearlessLocalTime(text, nowSeconds, tzOffsetSeconds). */
  epoch(text: string): number | null {
    const m = DATE.exec(text.trim());
    return m ? this.fromParts(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6], text) : null;
  }

  /**
   * The same from the parts a listing's own pattern already matched (weekday, month, day, hour,
   * minute, seconds or undefined): `text` is the date as printed, for the one rare case (a leap second).
   */
  fromParts(wd: string, mo: string, dd: string, hh: string, mi: string, ss: string | undefined, text: string): number | null {
    let days: DayStarts | null | undefined;
    // Listed messages mostly share the day of the one before: no key to build then.
    if (wd === this.last.w && mo === this.last.m && dd === this.last.d) days = this.last.days;
    else {
      const key = `${wd} ${mo} ${dd}`;
      days = this.days.get(key);
      if (days === undefined) this.days.set(key, (days = this.search(wd, mo, Number(dd))));
      this.last = { w: wd, m: mo, d: dd, days };
    }
    if (days === null) return null;
    const h = Number(hh);
    const min = Number(mi);
    const s = ss === undefined ? 0 : Number(ss);
    if (h > 23 || min > 59 || s > 60) return null;
    // A leap second at 23:59:60 is the next day's midnight: the one case the day's search cannot answer.
    if (s === 60) return yearlessLocalTime(text, this.nowSeconds, this.tzOffsetSeconds);
    const time = h * 3600 + min * 60 + s - this.tzOffsetSeconds;
    // Only this year's date can lie in the future (a day of slack for clock skew); earlier years never do.
    const future = days.thisYear !== null && days.thisYear + time > this.nowSeconds + 86400;
    const start = future ? days.withoutThisYear : days.withThisYear;
    return start === null ? null : start + time;
  }

  /** null: not a date (month name, day out of range). */
  private search(wdayName: string, monName: string, day: number): DayStarts | null {
    const wday = DAYS.indexOf(wdayName);
    const mon = monthIndex(monName);
    if (mon < 0 || day < 1 || day > 31) return null;
    const start = (y: number): number | null => {
      const t = Date.UTC(y, mon, day);
      return new Date(t).getUTCMonth() === mon ? t / 1000 : null; // Feb 29 in a non-leap year
    };
    const pick = (from: number): number | null => {
      let fallback: number | null = null;
      for (let y = from; y >= this.year0 - SPAN; y--) {
        const t = start(y);
        if (t === null) continue;
        if (fallback === null) fallback = t;
        if (wday < 0 || new Date(t * 1000).getUTCDay() === wday) return t;
      }
      return fallback;
    };
    return { withThisYear: pick(this.year0), withoutThisYear: pick(this.year0 - 1), thisYear: start(this.year0) };
  }
}
