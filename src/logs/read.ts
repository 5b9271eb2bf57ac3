// Read an MTA's log over a time window in one streamed command: find the log (and its rotations),
// decompress what needs it, and filter on the server so only relevant lines cross the network.
import type { MtaLogFormat } from './types.js';
import { sh, shLines, type Sh } from '../transport/quote.js';

export const FILE_MARKER = '__MAILSWEEP_LOGFILE__';
export const NOW_MARKER = '__MAILSWEEP_LOGNOW__';
export const NOLOG_MARKER = '__MAILSWEEP_NOLOG__';
/** A log file the window needs that the command's user cannot read (permissions). */
export const UNREADABLE_MARKER = '__MAILSWEEP_UNREADABLE__';

/**
 * The shell command. Rotations (`log.1`, `log.2.gz`, `log-20261122[.gz]`, multilog `@….s`) are read
 * oldest first when modified at or after `since`, so joins across a rotation still work; the
 * current file is always read. Every path in it comes from the MTA's list or the inventory, quoted.
 */
export function logReadCommand(format: Pick<MtaLogFormat, 'candidates' | 'filters'>, sinceEpoch: number, mailLog?: readonly string[]): Sh {
  const candidates = [...(mailLog ?? format.candidates)];
  const greps = format.filters.flatMap((p) => ['-e', p]);
  return shLines(
    sh`echo ${NOW_MARKER} "$(date '+%s %z')"`,
    sh`log=; for f in ${candidates}; do if [ -e "$f" ]; then log=$f; break; fi; done`,
    // A log directory the user may not enter (Debian's /var/log/exim4 is 2750) hides the log: say so.
    sh`if [ -z "$log" ]; then for f in ${candidates}; do d=$(dirname -- "$f"); if [ -d "$d" ] && [ ! -x "$d" ]; then echo ${UNREADABLE_MARKER} "$d"; fi; done; echo ${NOLOG_MARKER} ${candidates.join(' ')}; exit 0; fi`,
    // Oldest first: ls -tr on the base name and its rotations (multilog keeps @timestamp.s beside current).
    sh`dir=$(dirname -- "$log"); base=$(basename -- "$log")`,
    sh`case "$base" in current) pat="@*.s @*.u current" ;; *) pat="$base $base.* $base-*" ;; esac`,
    sh`cd "$dir" || exit 3`,
    sh`for f in $(ls -1tr -- $pat 2>/dev/null); do`,
    sh`  [ -f "$f" ] || continue`,
    sh`  if [ "$f" != "$base" ] && [ "$(stat -c %Y -- "$f" 2>/dev/null || echo 0)" -lt ${sinceEpoch} ]; then continue; fi`,
    sh`  if [ ! -r "$f" ]; then echo ${UNREADABLE_MARKER} "$dir/$f"; continue; fi`,
    sh`  echo ${FILE_MARKER} "$dir/$f"`,
    sh`  case "$f" in *.gz) gzip -dc -- "$f" ;; *.bz2) bzip2 -dc -- "$f" ;; *.xz) xz -dc -- "$f" ;; *) cat -- "$f" ;; esac | grep -a -F ${greps}`,
    sh`done; exit 0`,
  );
}

/** Parse the `date '+%s %z'` line: server clock and UTC offset in minutes. */
export function parseNowLine(rest: string): { nowSeconds: number; tzOffsetMinutes: number } | null {
  const m = /^(\d+) ([+-])(\d\d)(\d\d)$/.exec(rest.trim());
  if (!m) return null;
  const off = (Number(m[3]) * 60 + Number(m[4])) * (m[2] === '-' ? -1 : 1);
  return { nowSeconds: Number(m[1]), tzOffsetMinutes: off };
}
