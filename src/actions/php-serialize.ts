// PHP serialize() for the values WHMCS expects in `customvars` / `customfields`
// (base64_encode(serialize(array(...)))). Output matches PHP 7.1+ (serialize_precision = -1).
//
//   string  → s:<UTF-8 byte length>:"<bytes>";
//   integer → i:<n>;        (JS integers within ±2^63; bigint too)
//   float   → d:<repr>;     (shortest round-trip digits, PHP's exponent rules: 1.0E+25, 1.0E-5)
//   boolean → b:1; / b:0;
//   null / undefined → N;
//   array / plain object / Map → a:<count>:{<key><value>…}
//     keys: integer keys as i:, strings that PHP would turn into integer keys ("5", "-3") as i:,
//     other strings as s:.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function str(s: string): string {
  return `s:${Buffer.byteLength(s, 'utf8')}:"${s}";`;
}

/** PHP's textual form of a double with serialize_precision = -1 (mode 0, "%.17H"-like). */
export function phpFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'NAN';
  if (n === Infinity) return 'INF';
  if (n === -Infinity) return '-INF';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const sign = n < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip.
  const [mant, expStr] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expStr);
  const decpt = exp + 1; // position of the decimal point relative to the digits
  // php_gcvt: exponential when decpt < -3 or decpt > precision (17).
  if (decpt < -3 || decpt > 17) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : `${digits}.0`;
    return `${sign}${m}E${exp < 0 ? '-' : '+'}${Math.abs(exp)}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** A PHP array key: integer-like strings become integer keys, as PHP does. */
function key(k: string | number | bigint): string {
  if (typeof k === 'bigint') return `i:${k};`;
  if (typeof k === 'number') {
    if (!Number.isInteger(k)) return `i:${Math.trunc(k)};`; // PHP truncates float keys
    return `i:${k};`;
  }
  if (/^(0|-?[1-9][0-9]*)$/.test(k)) {
    const b = BigInt(k);
    if (b >= INT64_MIN && b <= INT64_MAX && k !== '-0') return `i:${k};`;
  }
  return str(k);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function phpSerialize(value: unknown): string {
  return ser(value, new Set());
}

function ser(value: unknown, stack: Set<object>): string {
  if (value === null || value === undefined) return 'N;';
  switch (typeof value) {
    case 'string':
      return str(value);
    case 'boolean':
      return value ? 'b:1;' : 'b:0;';
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw new RangeError('phpSerialize: bigint outside PHP int64 range');
      return `i:${value};`;
    case 'number':
      if (Number.isInteger(value) && !Object.is(value, -0)) {
        const b = BigInt(value);
        if (b >= INT64_MIN && b <= INT64_MAX) return `i:${b};`;
      }
      return `d:${phpFloatRepr(value)};`;
    case 'object':
      break;
    default:
      throw new TypeError(`phpSerialize: cannot serialize a ${typeof value}`);
  }
  const obj = value as object;
  if (stack.has(obj)) throw new TypeError('phpSerialize: circular structure');
  stack.add(obj);
  try {
    let entries: [string | number | bigint, unknown][];
    if (Array.isArray(obj)) entries = obj.map((v, i) => [i, v]);
    else if (obj instanceof Map) entries = [...obj.entries()] as [string | number, unknown][];
    else if (isPlainObject(obj)) entries = Object.entries(obj);
    else throw new TypeError(`phpSerialize: cannot serialize a ${obj.constructor?.name ?? 'object'}`);
    return `a:${entries.length}:{${entries.map(([k, v]) => key(k) + ser(v, stack)).join('')}}`;
  } finally {
    stack.delete(obj);
  }
}

/** base64_encode(serialize($value)), the form WHMCS takes for customvars / customfields. */
export function phpSerializeBase64(value: unknown): string {
  return Buffer.from(phpSerialize(value), 'utf8').toString('base64');
}
