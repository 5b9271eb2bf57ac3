// yearlessLocalTime (util.ts) for a whole listing: the same answers, but the year search is done
// once per calendar day seen instead of once per message (100k messages share a few hundred days).
import { monthIndex } from '../text/lines.js';
import { yearlessLocalTime } from './util.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DATE = /^(\w{3})\s+(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const SPAN = 7;

/** The years yearlessLocalTime would pick for one (weekday, month, day). */
interface DayYears {
  /** When this year's date is not in the future (or not a date). */
  withThisYear: number | null;
  /** When it is. */
  withoutThisYear: number | null;
  /** This year's date exists (no Feb 29 roll-over). */
  thisYearValid: boolean;
}

export class YearlessClock {
  private readonly year0: number;
  private readonly days = new Map<number, DayYears>();

  constructor(
    readonly nowSeconds: number,
    private readonly tzOffsetSeconds = 0,
  ) {
    this.year0 = new Date((nowSeconds + tzOffsetSeconds) * 1000).getUTCFullYear();
  }

  /** yearlessLocalTime(text, nowSeconds, tzOffsetSeconds). */
  epoch(text: string): number | null {
    const m = DATE.exec(text.trim());
    if (!m) return null;
    const wday = DAYS.indexOf(m[1] ?? '');
    const mon = monthIndex(m[2] ?? '');
    const day = Number(m[3]);
    const h = Number(m[4]);
    const min = Number(m[5]);
    const s = m[6] === undefined ? 0 : Number(m[6]);
    if (mon < 0 || day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return null;
    // A leap second at 23:59:60 is the next day's midnight: the one case the day's search cannot answer.
    if (s === 60) return yearlessLocalTime(text, this.nowSeconds, this.tzOffsetSeconds);
    const key = (wday + 1) * 10000 + mon * 100 + day;
    let years = this.days.get(key);
    if (!years) this.days.set(key, (years = this.search(wday, mon, day)));
    const at = (y: number) => Date.UTC(y, mon, day, h, min, s) / 1000 - this.tzOffsetSeconds;
    // Only this year's date can lie in the future (a day of slack for clock skew); earlier years never do.
    const future = years.thisYearValid && at(this.year0) > this.nowSeconds + 86400;
    const y = future ? years.withoutThisYear : years.withThisYear;
    return y === null ? null : at(y);
  }

  private search(wday: number, mon: number, day: number): DayYears {
    const pick = (from: number): number | null => {
      let fallback: number | null = null;
      for (let y = from; y >= this.year0 - SPAN; y--) {
        const d = new Date(Date.UTC(y, mon, day));
        if (d.getUTCMonth() !== mon) continue; // Feb 29 in a non-leap year
        if (fallback === null) fallback = y;
        if (wday < 0 || d.getUTCDay() === wday) return y;
      }
      return fallback;
    };
    return {
      withThisYear: pick(this.year0),
      withoutThisYear: pick(this.year0 - 1),
      thisYearValid: new Date(Date.UTC(this.year0, mon, day)).getUTCMonth() === mon,
    };
  }
}
