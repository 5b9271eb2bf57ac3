// The queue of the demo's stateful exim host (fake-exim.ts), in memory: seeded from a recording of
// the attributed queue read on a real exim server (queue.out: `exim -bpc`, `exim -bp`, the spool
// directory and every spool -H envelope), changed by purge and hold, and listed again in the same
// format — so a later listing shows exactly what a real server would after the same commands.
import { EXIM_ID } from '../mta/exim/host.js';
import { parseEximSpoolHeader, type EximSpoolHeader, type SpoolLine } from '../mta/exim/envelope.js';
import { RC_MARKER } from '../mta/sections.js';

const H_MARKER = '__MAILSWEEP_H__ ';
const FROZEN = ' *** frozen ***';

/** One queued message: its `exim -bp` entry and its spool -H envelope as the dump prints them. */
export interface FakeEximMessage {
  id: string;
  /** The -bp entry: the head line, then the recipient lines. */
  bp: string[];
  /** The spool -H envelope as dumped: "|" lines, "+" -acl value lines ("%": CR lines in hex). */
  dump: string[];
  /** The -H file's path on the recorded server. */
  path: string;
}

/** A "|…", "+…" or "%|<hex>" dump line as the -H file line it stands for. */
function spoolLineOf(dumpLine: string, no: number): SpoolLine {
  if (dumpLine.startsWith('%')) {
    const text = Buffer.from(dumpLine.slice(2), 'hex').toString('utf8');
    return { text, acl: dumpLine[1] === '+', no };
  }
  return { text: dumpLine.slice(1), acl: dumpLine.startsWith('+'), no };
}

function recordingError(what: string, line: number): Error {
  return new Error(`queue recording not understood at line ${line}: ${what}`);
}

export class FakeEximQueue {
  /** Messages in `exim -bp` order. */
  private readonly messages: FakeEximMessage[] = [];
  /** The ids in the order of the spool dump (find's order on the recorded server). */
  private readonly dumpOrder: string[] = [];
  private readonly byId = new Map<string, FakeEximMessage>();

  private constructor(readonly spoolDirectory: string) {}

  /** Parse a recorded attributed read; throws on anything it does not know (it reads only our own recordings). */
  static fromRecording(text: string): FakeEximQueue {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const rc = (name: string) => lines.findIndex((l) => l.startsWith(`${RC_MARKER} ${name} `));
    const [bpc, bp, spooldir, spool] = [rc('bpc'), rc('bp'), rc('spooldir'), rc('spool')];
    if (bpc < 0 || bp < bpc || spooldir < bp || spool < spooldir) throw recordingError('missing sections bpc, bp, spooldir, spool', 1);
    const sd = /^spool_directory = (\/\S*)$/.exec(lines[spooldir - 1] ?? '');
    if (!sd) throw recordingError('no "spool_directory = …" line', spooldir);
    const q = new FakeEximQueue(sd[1]!);
    let cur: FakeEximMessage | null = null;
    for (let i = bpc + 1; i < bp; i++) {
      const l = lines[i]!;
      if (l === '') {
        cur = null;
        continue;
      }
      if (cur) {
        cur.bp.push(l);
        continue;
      }
      const id = EXIM_ID.exec(l)?.[0];
      if (!id || q.byId.has(id)) throw recordingError('expected a -bp head line', i + 1);
      cur = { id, bp: [l], dump: [], path: '' };
      q.messages.push(cur);
      q.byId.set(id, cur);
    }
    cur = null;
    for (let i = spooldir + 1; i < spool; i++) {
      const l = lines[i]!;
      if (l.startsWith(H_MARKER)) {
        const path = l.slice(H_MARKER.length);
        const id = /([^/]+)-H$/.exec(path)?.[1] ?? '';
        cur = q.byId.get(id) ?? null;
        if (!cur) throw recordingError(`a spool file of no listed message: ${path}`, i + 1);
        cur.path = path;
        q.dumpOrder.push(id);
      } else if (cur && /^[|+%]/.test(l)) cur.dump.push(l);
      else throw recordingError('expected a spool dump line', i + 1);
    }
    const missing = q.messages.find((m) => !m.path);
    if (missing) throw recordingError(`no spool file for ${missing.id}`, spooldir + 1);
    return q;
  }

  ids(): string[] {
    return this.messages.map((m) => m.id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The message's -H envelope, read as exim reads it (the purge's re-check reads the same). */
  envelope(id: string): (EximSpoolHeader & { line3: string }) | null {
    const m = this.byId.get(id);
    if (!m) return null;
    const lines = m.dump.map((l, i) => spoolLineOf(l, i + 1));
    return { ...parseEximSpoolHeader(lines), line3: lines[2]?.text ?? '' };
  }

  /** The -H file's lines as `exim -Mvh` prints them (the recording holds the envelope part). */
  headerText(id: string): string | null {
    const m = this.byId.get(id);
    return m ? m.dump.map((l, i) => spoolLineOf(l, i + 1).text).join('\n') + '\n' : null;
  }

  /** `exim -Mrm`: the message's spool files are gone. */
  remove(id: string): boolean {
    const m = this.byId.get(id);
    if (!m) return false;
    this.byId.delete(id);
    this.messages.splice(this.messages.indexOf(m), 1);
    this.dumpOrder.splice(this.dumpOrder.indexOf(id), 1);
    return true;
  }

  /** `exim -Mf`: a -frozen line in the envelope and "*** frozen ***" in the listing. False when it already was. */
  freeze(id: string, now: number): boolean {
    const m = this.byId.get(id);
    if (!m || this.envelope(id)?.frozen) return false;
    // The envelope's hyphen lines run from line 5 to the non-recipients tree: the flag goes last among them.
    let at = 4;
    while (at < m.dump.length && /^\|-/.test(m.dump[at]!)) at++;
    m.dump.splice(at, 0, `|-frozen ${now}`);
    if (!m.bp[0]!.endsWith(FROZEN)) m.bp[0] += FROZEN;
    return true;
  }

  /** The envelope senders of the queued mail `authId` submitted, in listing order. */
  sendersOf(authId: string): string[] {
    const out: string[] = [];
    for (const id of this.ids()) {
      const h = this.envelope(id);
      if (h?.authId === authId && h.sender !== '') out.push(h.sender);
    }
    return out;
  }

  /**
   * Re-address every single-recipient bounce to one of `senders`, the k-th bounce to
   * senders[(k * 7) % n] — what the lab's seed does since its bounces answer the spam's forged
   * senders (test/lab/lib/seed.sh). Older recordings bounce to random addresses, which no real
   * backscatter does; the demo's incident uses this to show a provable backscatter purge.
   * Returns how many bounces were re-addressed.
   */
  readdressBounces(senders: readonly string[]): number {
    if (senders.length === 0) return 0;
    let k = 0;
    for (const m of this.messages) {
      const h = this.envelope(m.id);
      if (!h || h.line3 !== '<>' || h.recipients.length !== 1 || m.bp.length !== 2) continue;
      const old = h.recipients[0]!;
      const to = senders[(++k * 7) % senders.length]!;
      m.bp[1] = m.bp[1]!.replace(old, to);
      const at = m.dump.lastIndexOf(`|${old}`);
      if (at < 0) throw new Error(`${m.id}: recipient line not found in its spool dump`);
      m.dump[at] = `|${to}`;
    }
    return k;
  }

  /** `exim -bpc` */
  bpc(): string {
    return `${this.messages.length}\n`;
  }

  /** `exim -bp`: every entry followed by a blank line. */
  bp(): string {
    return this.messages.map((m) => `${m.bp.join('\n')}\n\n`).join('');
  }

  /** The spool dump of the attributed read (spool-dump.sh): the spool directory's section, then every -H envelope. */
  spoolDump(): string {
    const files = this.dumpOrder.map((id) => {
      const m = this.byId.get(id)!;
      return `${H_MARKER}${m.path}\n${m.dump.join('\n')}\n`;
    });
    return `spool_directory = ${this.spoolDirectory}\n${RC_MARKER} spooldir 0\n${files.join('')}${RC_MARKER} spool 0\n`;
  }
}
