// `scan --problems`: the report's host list cut to the hosts that need attention. The summary is
// the fleet's, untouched, so totals and the exit code still speak for every host scanned.
import type { ScanReport } from '../scan/types.js';
import { hostState } from './format.js';

export function problemsOnly(r: ScanReport): ScanReport {
  return { ...r, filter: 'problems', hosts: r.hosts.filter((h) => hostState(h) !== 'OK') };
}

/** The line a table or markdown report adds when OK hosts were left out. */
export function filterNote(r: ScanReport): string | null {
  if (r.filter !== 'problems') return null;
  const hidden = r.summary.hosts - r.hosts.length;
  return `${hidden} OK host${hidden === 1 ? '' : 's'} not listed (--problems)`;
}
