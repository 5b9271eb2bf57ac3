// --since: 'today' (server's midnight), 'yesterday', a duration (90m, 24h, 7d) or an ISO date/time.
import { ConfigError } from '../errors.js';

export function parseSince(text: string | undefined, nowMs = Date.now()): number | 'today' {
  if (!text || text === 'today') return 'today';
  const now = Math.floor(nowMs / 1000);
  if (text === 'yesterday') {
    const d = new Date(nowMs);
    d.setHours(0, 0, 0, 0);
    return Math.floor(d.getTime() / 1000) - 86400;
  }
  const dur = /^(\d+)\s*([mhd])$/.exec(text);
  if (dur) return now - Number(dur[1]) * { m: 60, h: 3600, d: 86400 }[dur[2] as 'm' | 'h' | 'd'];
  if (/^\d{4}-\d\d-\d\d([T ][\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(text)) {
    const t = Date.parse(text.length === 10 ? `${text}T00:00:00` : text.replace(' ', 'T'));
    if (!Number.isNaN(t)) return Math.floor(t / 1000);
  }
  throw new ConfigError(`--since: expected today, yesterday, a duration like 24h or 7d, or a date like 2026-11-20, got "${text}"`);
}
