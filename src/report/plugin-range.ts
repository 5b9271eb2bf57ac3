// -w / -c in the monitoring-plugins threshold syntax (guidelines, "Threshold and ranges"):
// `N` alerts when the value is outside 0..N (above N), `~:N` above N, `N:` below N, `M:N` outside
// M..N, `@M:N` inside M..N. A queue is in trouble when it grows, so only the ranges that alert above
// a size are taken (`N`, `0:N`, `~:N`); a range that would alert on a small or empty queue is refused
// with the reason, never silently read as something else.
import { ConfigError } from '../errors.js';

const NUM = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)`;
const RANGE = new RegExp(`^(@)?(?:(~|${NUM})?:)?(${NUM})?$`);

/** The queue size above which the flag alerts (a whole number ≥ 0). */
export function parseQueueThreshold(flag: string, text: string): number {
  const v = text.trim();
  const m = RANGE.exec(v);
  const fail = (why: string) => new ConfigError(`${flag}: ${why}, got "${text}"`);
  if (!v || !m || (m[2] === undefined && m[3] === undefined)) throw fail('expected a queue size N (alert above N) or a range ~:N or 0:N');
  const [, inside, start, end] = m;
  const sizes = 'a queue is in trouble when it grows: give N (alert above N), or ~:N / 0:N';
  if (inside) throw fail(`@ alerts inside the range, on a small queue too; ${sizes}`);
  if (end === undefined)
    throw fail(`${start === '~' ? 'it never alerts' : `it alerts below ${start}, on a small or empty queue`}; ${sizes}`);
  if (start !== undefined && start !== '~' && Number(start) !== 0)
    throw fail(`it alerts below ${start} too, on a small or empty queue; ${sizes}`);
  const n = Number(end);
  if (!Number.isInteger(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) throw fail('a queue size is a whole number of messages, 0 or more');
  return n;
}
