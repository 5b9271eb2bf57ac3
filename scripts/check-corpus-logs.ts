// Run the log parsers over every `kind: maillog` / `kind: smtp-log` file of a corpus and compare
// with its expected.json. Usage: npx tsx scripts/check-corpus-logs.ts <corpus-dir> [-v]
// Prints PASS/FAIL per file and per field; exits 1 on any mismatch, 2 on bad usage.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_PARSERS } from '../src/logs/index.js';
import { isAuthenticated, type LogEvents, type Submission } from '../src/logs/types.js';
import { MTA_NAMES, type MtaName } from '../src/mta/types.js';
import { same, tally } from './corpus-compare.js';

interface Expected {
  mta: string;
  kind: string;
  messageCount?: number | null;
  authSubmissions?: number | null;
  authUsers?: Record<string, number> | null;
  authNoId?: number | null;
  authClientIPs?: Record<string, number> | null;
  authFailures?: number | null;
  authFailureUsers?: Record<string, number> | null;
  nullSenderCount?: number | null;
  smtpTransactions?: number | null;
}

const FIELDS = [
  'messageCount',
  'authSubmissions',
  'authUsers',
  'authNoId',
  'authClientIPs',
  'authFailures',
  'authFailureUsers',
  'nullSenderCount',
  'smtpTransactions',
] as const;

/** Sources that are "acceptance records" in the corpus' sense (messageCount of a maillog). */
const ACCEPTANCE = new Set<Submission['source']>(['exim-arrival', 'postfix-qmgr', 'sendmail-from', 'qmail-send']);
/** qmail SMTP-daemon transactions (smtpTransactions of an smtp-log). */
const SMTP_TRANSACTION = new Set<Submission['source']>(['qmail-recv', 'qmail-smtpd', 'qmail-chkuser']);

/** The facts expected.json describes, computed from what the parser emitted. */
export function facts(kind: string, ev: LogEvents): Record<(typeof FIELDS)[number], unknown> {
  const subs = ev.submissions;
  const confirmed = subs.filter((s) => !s.unconfirmed);
  const auth = subs.filter(isAuthenticated);
  const records =
    kind === 'smtp-log' ? confirmed.filter((s) => SMTP_TRANSACTION.has(s.source)) : confirmed.filter((s) => ACCEPTANCE.has(s.source));
  return {
    messageCount: records.length,
    authSubmissions: auth.length,
    authUsers: tally(auth.flatMap((s) => (s.authId === undefined ? [] : [s.authId]))),
    authNoId: auth.filter((s) => s.authId === undefined).length,
    authClientIPs: tally(auth.flatMap((s) => (s.clientIp === undefined ? [] : [s.clientIp]))),
    authFailures: ev.failures.length,
    authFailureUsers: tally(ev.failures.flatMap((f) => (f.user === undefined ? [] : [f.user]))),
    nullSenderCount: records.filter((s) => s.sender === '').length,
    smtpTransactions: confirmed.filter((s) => SMTP_TRANSACTION.has(s.source)).length,
  };
}

const dir = process.argv[2];
const verbose = process.argv.includes('-v');
if (!dir) {
  console.error('usage: tsx scripts/check-corpus-logs.ts <corpus-dir> [-v]');
  process.exit(2);
}
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { files: Record<string, Expected> };
// Syslog lines carry no year; any "now" after the samples will do.
const nowSeconds = Math.floor(Date.now() / 1000);

let failed = 0;
let checked = 0;
for (const [path, exp] of Object.entries(expected.files).sort(([a], [b]) => a.localeCompare(b))) {
  if (exp.kind !== 'maillog' && exp.kind !== 'smtp-log') continue;
  if (!(MTA_NAMES as readonly string[]).includes(exp.mta)) continue;
  checked++;
  const text = readFileSync(join(dir, path), 'utf8');
  const ev = LOG_PARSERS[exp.mta as MtaName].parse(text, { nowSeconds });
  const got = facts(exp.kind, ev);
  const lines: string[] = [];
  let bad = 0;
  for (const field of FIELDS) {
    const want = exp[field];
    if (want === undefined || want === null) continue; // not meaningful for this file
    // an empty tally is written {} or omitted (null) when nothing is expected
    const ok = same(want, got[field]);
    if (!ok) bad++;
    if (!ok || verbose)
      lines.push(`  ${ok ? 'pass' : 'FAIL'} ${field}: expected ${JSON.stringify(want)}${ok ? '' : `, got ${JSON.stringify(got[field])}`}`);
  }
  if (ev.warnings.length) lines.push(`  note: ${ev.warnings.length} warning(s): ${ev.warnings.slice(0, 3).join(' | ')}`);
  console.log(`${bad ? 'FAIL' : 'PASS'} ${path}`);
  for (const l of lines) console.log(l);
  if (bad) failed++;
}
console.log(failed ? `${failed} of ${checked} log file(s) failed` : `all ${checked} log files pass`);
process.exit(failed ? 1 : 0);
