// Exim incident operations: purge / hold by re-checking each spool -H file on the server,
// then `exim -Mrm` (delete) or `exim -Mf` (freeze); restart through systemd / init script.
//
// The command is a fixed script; the request (ids, expected senders and recipients, the auth id)
// comes on its stdin, hex-encoded (purge-stdin.ts purgeStdinText). One awk reads every -H file
// (flat input/ or split input/<6th char of the id>/) and compares, as hex of the file's bytes:
//   - line 1 names the id (a file that is not this message's is never trusted);
//   - with request.expect: line 3 is "<sender>", byte for byte (ESC, CR, quotes included);
//   - kind auth: an envelope hyphen line "-auth_id <id>" / "--auth_id <id>" carries the auth id;
//   - kind bounce: line 3 is "<>" and every undelivered recipient (the recipient list minus the
//     non-recipients tree, each line's trailing errors_to / DSN fields stripped as spool_in.c
//     does) is one of request.expect[id].recipients, and there is at least one.
// Only the envelope (lines 5.. up to the first non-hyphen line, -acl values skipped by their
// byte length) is searched, so a header or recipient cannot pass for an -auth_id line.
// Queue runners are paused for the window (runner-pause.ts runnerPauseFragment): a delivery
// process holding a matched message's -D lock is killed, its queue runner stopped and resumed.
// A value holding NUL or a newline cannot be in one -H line: such an id never matches.

import { sh } from '../../transport/quote.js';
import { EXIM_ID, EXIM_PID_FILES, EXIM_UNITS, eximBinary, eximExeNames } from './host.js';
import { PURGE_MARKER, parsePurgeOutput } from '../purge-protocol.js';
import { prepareStdinPurge, purgeStdinText, stdinPrologue } from '../purge-stdin.js';
import { parseRestartOutput, pidFileProbe, restartPrologue, serviceRestartFragment, waitRunningFragment } from '../restart-fragments.js';
import { RESUME_DAEMON, runnerPauseFragment } from '../runner-pause.js';
import { pathLine } from '../util.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from '../types.js';


/** The envelope's hyphen lines (from line 5), -acl values skipped; LC_ALL=C so length() is bytes. */
const ENVELOPE_AWK = `NR<5{next} s>0{s-=length($0)+1;next} !/^-/{exit} {print; if($0~/^--?acl[cm]? .* [0-9]+$/)s=$NF+1}`;

/** Hex of a string's bytes (LC_ALL=C: one character is one byte); HX is filled in BEGIN. */
export const AWK_HEX = 'function hx(s,  i, n, o) { o = ""; n = length(s); for (i = 1; i <= n; i++) o = o HX[substr(s, i, 1)]; return o }';
export const AWK_HEX_BEGIN = 'for (i = 1; i < 256; i++) HX[sprintf("%c", i)] = sprintf("%02x", i)';

/**
 * The re-check of every requested id, in portable awk. Input: the request file (stdin format).
 * ENVIRON: MS_SP spool directory, MS_KIND auth|bounce, MS_OK file for "<id> <-D path>" lines
 * of the matched ids. Prints one marker line (match / skip) per id.
 */
export const EXIM_CHECK_AWK = [
  AWK_HEX,
  'function ch(s, k) { return substr(s, k + 1, 1) }',
  // One "<text> <len>,<n>" block ending before index e (0-based): where <text> starts, or -1.
  'function blk(l, e,   q, n) { q = e; while (q > 0 && ch(l, q - 1) ~ /[0-9,-]/) q--; n = substr(l, q + 1, e - q); sub(/,.*/, "", n)',
  '  if (n !~ /^[0-9]+$/ || ch(l, q - 1) != " ") return -1; n = q - 1 - n; return n >= 1 ? n : -1 }',
  // A recipient line without exim's trailing data (spool_in.c; mirrors recipientAddress in exim.ts).
  'function raddr(l,   n, p, f, e, s) { n = length(l); p = n - 1',
  '  while (p >= 0 && ch(l, p) ~ /[0-9]/) p--',
  '  if (p < 0 || p == n - 1) return l',
  '  if (ch(l, p) == ",") { while (p >= 0 && ch(l, p) ~ /[0-9,]/) p--; return ch(l, p) == " " ? substr(l, 1, p) : l }',
  '  if (ch(l, p) == " ") return substr(l, 1, p)',
  '  if (ch(l, p) != "#") return l',
  '  f = substr(l, p + 2) + 0; e = p',
  '  if (f % 2 == 1) { s = blk(l, e); if (s < 0) return l; e = s - 1 } else e = p - 1',
  '  if (int(f / 2) % 2 == 1) { s = blk(l, e); if (s < 0) return l; e = s - 1 }',
  '  return substr(l, 1, e > 0 ? e : 0) }',
  `function skip(id, why) { print "${PURGE_MARKER} " id " skip " why }`,
  `BEGIN { ${AWK_HEX_BEGIN}; sp = ENVIRON["MS_SP"]; kind = ENVIRON["MS_KIND"]; okf = ENVIRON["MS_OK"] }`,
  '$1 == "A" { auth = substr($2, 1); next }',
  '$1 == "." { next }',
  '{ id = $1; es = $2; er = $3',
  '  if (id !~ /^[0-9A-Za-z]+-[0-9A-Za-z]+-[0-9A-Za-z]+$/) next',
  '  split("", want); if (er != "-") { n = split(substr(er, 2), w, ","); for (k = 1; k <= n; k++) want[w[k]] = 1 }',
  '  f = sp "/input/" id "-H"',
  '  if ((getline line < f) <= 0) { close(f); f = sp "/input/" substr(id, 6, 1) "/" id "-H"',
  '    if ((getline line < f) <= 0) { close(f); skip(id, "gone: no spool -H file"); next } }',
  '  ln = 1; okid = (line == id "-H"); snd = ""; authok = 0; st = "env"; sk = 0; pend = 0; nr = -1; rc = 0; nu = 0; rbad = 0; bad = ""; split("", dl)',
  '  while ((getline line < f) > 0) { ln++',
  '    if (ln == 3) { snd = line; continue }',
  '    if (ln < 5) continue',
  '    if (st == "env") {',
  '      if (sk > 0) { sk -= length(line) + 1; continue }',
  '      if (line ~ /^-/) {',
  '        if (line ~ /^--?auth_id /) { v = line; sub(/^--?auth_id /, "", v); if (auth != "" && hx(v) == auth) authok = 1 }',
  '        if (line ~ /^--?acl[cm]? .* [0-9]+$/) { n = split(line, w, " "); sk = w[n] + 1 }',
  '        continue }',
  '      st = "tree" }',
  '    if (st == "tree") {',
  '      if (pend == 0 && line == "XX") { st = "count"; continue }',
  '      if (line !~ /^[YN][YN] /) { bad = "non-recipients tree not understood"; break }',
  '      if (pend == 0) pend = 1',
  '      pend--; if (substr(line, 1, 1) == "Y") pend++; if (substr(line, 2, 1) == "Y") pend++',
  '      dl[substr(line, 4)] = 1; if (pend == 0) st = "count"; continue }',
  '    if (st == "count") { if (line !~ /^[0-9]+$/) { bad = "recipient count not understood"; break } nr = line + 0; st = "rcpt"; if (nr == 0) break; continue }',
  '    a = raddr(line); if (!(a in dl)) { nu++; if (!(("x" hx(a)) in want)) rbad = 1 }',
  '    if (++rc == nr) break }',
  '  close(f)',
  '  if (!okid) { skip(id, "spool -H file does not name this id"); next }',
  '  if (bad != "") { skip(id, "spool -H file not understood: " bad); next }',
  '  if (nr < 0 || rc < nr) { skip(id, "spool -H file ends before its recipients"); next }',
  '  if (es != "-" && hx(snd) != "3c" substr(es, 2) "3e") { skip(id, "envelope sender changed: id reused?"); next }',
  '  if (kind == "auth" && !authok) { skip(id, "not submitted by this auth id"); next }',
  '  if (kind == "bounce") {',
  '    if (snd != "<>") { skip(id, "not a null-sender message"); next }',
  '    if (er == "-") { skip(id, "no expected recipients: cannot re-check"); next }',
  '  }',
  '  if (er != "-" && nu == 0) { skip(id, "recipients changed: none is left undelivered"); next }',
  '  if (er != "-" && rbad) { skip(id, "recipients changed: an undelivered recipient is not among the expected ones"); next }',
  '  print "' + PURGE_MARKER + ' " id " match"; d = f; sub(/-H$/, "-D", d); print id, d > okf',
  '}',
].join('\n');
/** exim's own words: "Message X has been removed" (…"or did not exist"), "is now frozen", "is already frozen". */
export function eximConfirmed(mode: 'delete' | 'hold'): (id: string, lines: string[]) => boolean {
  return (id, lines) =>
    lines.some((l) =>
      mode === 'delete'
        ? l.startsWith(`Message ${id} has been removed`)
        : l === `Message ${id} is now frozen` || l === `Message ${id} is already frozen`,
    );
}


/**
 * The fixed purge script (its size does not depend on the request): request on stdin, runners
 * paused, every id re-checked by EXIM_CHECK_AWK, lock holders of matched ids killed, the tool run
 * (up to 3 rounds for messages a process locked again), each id verified.
 */
export function eximPurgeCommand(ctx: MtaContext, req: PurgeRequest): string {
  const bin = eximBinary(ctx);
  const spoolOverride = ctx.spoolDirectory;
  const tool = req.mode === 'delete' ? '-Mrm' : '-Mf';
  const M = PURGE_MARKER;
  // pending ID: the tool has not taken effect yet (delete: -H still there; hold: not frozen).
  const pending =
    req.mode === 'delete'
      ? `pending() { grep -q "^$1 " "$t.ok" && [ -f "$(sed -n "s/^$1 \\(.*\\)-D$/\\1-H/p" "$t.ok")" ]; }`
      : `pending() { f=$(sed -n "s/^$1 \\(.*\\)-D$/\\1-H/p" "$t.ok"); [ -f "$f" ] && ! LC_ALL=C awk "$aw" "$f" | grep -q '^-frozen '; }`;
  const verify =
    req.mode === 'delete'
      ? `if pending "$id"; then echo "${M} $id fail -H file still in the spool"; else echo "${M} $id done removed"; fi`
      : `if pending "$id"; then echo "${M} $id fail not frozen"; else echo "${M} $id done frozen"; fi`;
  return [
    pathLine(),
    spoolOverride ? sh`sp=${spoolOverride}` : sh`sp=$(${bin} -bP spool_directory 2>/dev/null) || sp=''; sp=\${sp#*= }`,
    `if [ -z "$sp" ] || [ ! -d "$sp/input" ]; then echo "${M} - abort exim spool directory not found"; exit 0; fi`,
    // The spool's real path: /proc/PID/fd links name it so.
    `sp=$(cd "$sp" && pwd -P) || { echo "${M} - abort exim spool directory not readable"; exit 0; }`,
    ...stdinPrologue(),
    `aw='${ENVELOPE_AWK}'`,
    `ca='${EXIM_CHECK_AWK}'`,
    runnerPauseFragment({ probe: eximPurgeProbe(ctx), exe: eximExeNames(ctx) }),
    pending,
    // Pause first: what is re-checked stays true until the tool has run.
    `ms_pause`,
    `: >"$t.ok"; LC_ALL=C MS_SP="$sp" MS_KIND=${req.match.kind === 'auth' ? 'auth' : 'bounce'} MS_OK="$t.ok" awk "$ca" "$t"`,
    `if [ -s "$t.ok" ]; then`,
    `  cp "$t.ok" "$t.todo"; r=0`,
    `  while [ -s "$t.todo" ] && [ "$r" -lt 3 ]; do r=$((r+1))`,
    `    ms_free "$t.todo"`,
    // Ids are validated ([0-9A-Za-z-], never a leading '-'): safe as words for xargs.
    `    cut -d' ' -f1 "$t.todo" | xargs ${sh`${bin}`} ${tool} 2>&1 | sed 's/^/| /'`,
    `    : >"$t.left"; while read -r id f; do if pending "$id"; then echo "$id $f" >>"$t.left"; fi; done <"$t.todo"; mv "$t.left" "$t.todo"`,
    `  done`,
    `  while read -r id f; do ${verify}; done <"$t.ok"`,
    `fi`,
  ].join('\n');
}

export function eximPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  const prep = prepareStdinPurge(req, EXIM_ID, 'exim');
  const tool = `exim ${req.mode === 'delete' ? '-Mrm' : '-Mf'}`;
  const ids = prep.ids;
  return {
    command: ids.length === 0 ? 'true' : eximPurgeCommand(ctx, req),
    ...(ids.length === 0 ? {} : { stdin: purgeStdinText(req, ids) }),
    parse: (stdout, stderr, code) =>
      parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: prep.skipped, confirmed: eximConfirmed(req.mode), tool }),
  };
}


/** The daemon for the purge's pause: the inventory's `mta_pid_file` when set, else eximProbe(). */
function eximPurgeProbe(ctx: MtaContext): string {
  const f = ctx.pidFile;
  return f !== undefined && /^\/[A-Za-z0-9._/-]+$/.test(f) ? pidFileProbe([f]) : eximProbe();
}

/** Pid of the listening daemon: a pid file, else the oldest exim process running -bd. */
function eximProbe(): string {
  return `{ ${pidFileProbe(EXIM_PID_FILES)}; } | head -n 1 | grep . || pgrep -o -f '^[^ ]*exim[^ ]* .*-bd' 2>/dev/null`;
}

export function eximRestart(_ctx: MtaContext): ReadPlan<RestartResult> {
  const probe = eximProbe();
  return {
    command: [
      ...restartPrologue(probe),
      // A purge killed outright (SIGKILL: no trap) may have left the daemon SIGSTOPped until its
      // watchdog fires: a stopped daemon ignores the init script's SIGTERM. Wake it first.
      RESUME_DAEMON,
      serviceRestartFragment(EXIM_UNITS),
      waitRunningFragment(probe),
    ].join('\n'),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'exim'),
  };
}

export const eximOps: MtaOperations = { restart: eximRestart, purge: eximPurge };
