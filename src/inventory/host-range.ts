// Inventory host keys as Ansible reads them: "name", "name:port", "[v6]:port", and ranges "mx[01:20].example.com".

const MAX_HOSTS = 100_000;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export interface HostKey {
  names: string[];
  port?: number;
}

/** Throws an Error with a user-facing message when the key cannot be read. */
export function parseHostKey(key: string): HostKey {
  const v6 = /^\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\](?::(\d+))?$/.exec(key);
  if (v6?.[1] && (v6[1].includes('::') || count(v6[1], ':') >= 3)) {
    return { names: [v6[1]], ...(v6[2] ? { port: toPort(v6[2]) } : {}) };
  }
  const colons = count(key.replace(/\[[^\]]*\]/g, ''), ':');
  // An unbracketed IPv6 address: no port can be given.
  if (colons >= 2) return { names: [key] };
  let base = key;
  let port: number | undefined;
  if (colons === 1) {
    const m = /^(.*[^:]):(\d+)$/.exec(key);
    if (!m?.[1] || !m[2]) throw new Error(`"${key}" is not "name" or "name:port"`);
    base = m[1];
    port = toPort(m[2]);
  }
  if (/\s/.test(base)) throw new Error('a host name cannot contain spaces (did you forget a colon?)');
  return { names: expandRanges(base), ...(port !== undefined ? { port } : {}) };
}

function count(s: string, ch: string): number {
  return s.split(ch).length - 1;
}

function toPort(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`port ${s} is not 1-65535`);
  return n;
}

/** mx[01:03] → mx01 mx02 mx03; [a:c] → a b c; [1:9:2] steps by 2. Brackets without a range stay as they are. */
export function expandRanges(name: string): string[] {
  const m = /\[([0-9a-zA-Z]*):([0-9a-zA-Z]+)(?::(\d+))?\]/.exec(name);
  if (!m) return [name];
  const head = name.slice(0, m.index);
  const tail = name.slice(m.index + m[0].length);
  const beg = m[1] || '0';
  const end = m[2] ?? '';
  const step = m[3] ? Number(m[3]) : 1;
  if (step < 1) throw new Error(`host range [${m[1]}:${end}:${m[3]}] has a zero step`);
  const seq: string[] = [];
  if (/^\d+$/.test(beg) && /^\d+$/.test(end)) {
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && end.length !== width) throw new Error(`host range [${beg}:${end}] must have begin and end of equal width`);
    const [a, b] = [Number(beg), Number(end)];
    if (a > b) throw new Error(`host range [${beg}:${end}] runs backwards`);
    if ((b - a) / step > MAX_HOSTS) throw new Error(`host range [${beg}:${end}] is too large`);
    for (let i = a; i <= b; i += step) seq.push(width ? String(i).padStart(width, '0') : String(i));
  } else if (/^[a-zA-Z]$/.test(beg) && /^[a-zA-Z]$/.test(end)) {
    const [a, b] = [LETTERS.indexOf(beg), LETTERS.indexOf(end)];
    if (a > b) throw new Error(`host range [${beg}:${end}] runs backwards`);
    for (let i = a; i <= b; i += step) seq.push(LETTERS[i] ?? '');
  } else {
    throw new Error(`host range [${m[1]}:${end}] must be numbers or single letters`);
  }
  const rest = expandRanges(tail);
  if (seq.length * rest.length > MAX_HOSTS) throw new Error('host range expands to too many hosts');
  return seq.flatMap((s) => rest.map((r) => head + s + r));
}
