// A strict reader of plugin output per the monitoring-plugins guidelines ("Plugin output",
// "Performance data"): `TEXT | PERFDATA` on the first line, then long text; each perfdata item
// `'label'=value[UOM];[warn];[crit];[min];[max]`. Anything else throws, naming what is wrong.

export interface PerfItem {
  label: string;
  value: number;
  uom: string;
  warn: string;
  crit: string;
  min: string;
  max: string;
}

export interface PluginOutput {
  /** The status line's text (before the `|`). */
  text: string;
  perfdata: PerfItem[];
  longText: string[];
}

const UOMS = ['', 's', 'ms', 'us', '%', 'B', 'KB', 'MB', 'GB', 'TB', 'c'];
/** A threshold in range format: [@][start:]end, start may be ~, end may be empty after a colon. */
const RANGE = /^(?:@?(?:(?:~|-?\d+(?:\.\d+)?):)?(?:-?\d+(?:\.\d+)?)?)?$/;
const NUMBER = /^-?[0-9.]*$/;

/** Space-separated items; a quoted label may hold spaces, '' is a quote inside it. */
function items(perf: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < perf.length) {
    if (perf[i] === ' ') {
      i++;
      continue;
    }
    let j = i;
    if (perf[j] === "'") {
      j++;
      for (;;) {
        if (j >= perf.length) throw new Error(`unterminated quoted label at ${i}: ${perf.slice(i, i + 40)}`);
        if (perf[j] === "'" && perf[j + 1] === "'") j += 2;
        else if (perf[j] === "'") break;
        else j++;
      }
      j++;
    }
    while (j < perf.length && perf[j] !== ' ') j++;
    out.push(perf.slice(i, j));
    i = j;
  }
  return out;
}

export function parsePerfItem(item: string): PerfItem {
  const m = /^('(?:[^']|'')+'|[^'= ]+)=(.*)$/.exec(item);
  if (!m) throw new Error(`perfdata item without label=value: ${item}`);
  const label = m[1]!.startsWith("'") ? m[1]!.slice(1, -1).replace(/''/g, "'") : m[1]!;
  if (label.includes('=') && !m[1]!.startsWith("'")) throw new Error(`= in an unquoted label: ${item}`);
  const fields = m[2]!.split(';');
  if (fields.length > 5) throw new Error(`more than 5 fields: ${item}`);
  const v = /^(-?[0-9.]+)([a-zA-Z%]*)$/.exec(fields[0]!);
  if (!v) throw new Error(`value not in [-0-9.] (+UOM): ${item}`);
  if (!UOMS.includes(v[2]!)) throw new Error(`unknown UOM "${v[2]}": ${item}`);
  const [warn = '', crit = '', min = '', max = ''] = fields.slice(1);
  for (const [name, t] of [
    ['warn', warn],
    ['crit', crit],
  ] as const)
    if (!RANGE.test(t)) throw new Error(`${name} not in range format: ${item}`);
  for (const [name, t] of [
    ['min', min],
    ['max', max],
  ] as const)
    if (!NUMBER.test(t)) throw new Error(`${name} not in [-0-9.]: ${item}`);
  return { label, value: Number(v[1]), uom: v[2]!, warn, crit, min, max };
}

/** The fleet totals every mailsweep plugin output starts its perfdata with, in this order. */
export const FLEET_PERFDATA_LABELS = ['queued', 'queue_max', 'hosts_ok', 'hosts_warning', 'hosts_critical', 'hosts_unknown'];

export function parsePluginOutput(out: string): PluginOutput {
  if (!out.endsWith('\n')) throw new Error('output does not end with a newline');
  const [first = '', ...rest] = out.slice(0, -1).split('\n');
  const bar = first.indexOf('|');
  const text = bar < 0 ? first : first.slice(0, bar).trimEnd();
  const perfdata = bar < 0 ? [] : items(first.slice(bar + 1)).map(parsePerfItem);
  // Long text may carry more perfdata after a `|`; this plugin puts all of it on the first line.
  const long = rest.findIndex((l) => l.includes('|'));
  if (long >= 0) throw new Error(`a | in long text line ${long + 2}: ${rest[long]}`);
  const labels = perfdata.map((p) => p.label);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup !== undefined) throw new Error(`perfdata label twice: ${dup}`);
  return { text, perfdata, longText: rest };
}
