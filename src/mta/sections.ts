// The section markers of a one-round-trip read, recognised line by line as the output arrives:
//   __MAILSWEEP_NOW__ <epoch> <+hhmm>     (optional, first line only)
//   ... a command's output ...
//   __MAILSWEEP_RC__ <name> <exit code>   (closes the section <name>)
// Only the expected names are accepted, in order, and only as whole lines, so data echoed by a
// command cannot forge one. The batch `splitSections` (util.ts) is this fed a whole output.
import { lineWarning } from '../text/lines.js';

export const RC_MARKER = '__MAILSWEEP_RC__';
export const NOW_MARKER = '__MAILSWEEP_NOW__';

const RC_LINE = /^__MAILSWEEP_RC__ ([a-z_]+) (\d{1,3})$/;
const NOW_LINE = /^__MAILSWEEP_NOW__ (\d{9,12}) ([+-])(\d{2})(\d{2})$/;

/** A closed section: its exit code and where it started. */
export interface ClosedSection {
  name: string;
  rc: number;
  /** 1-based line number of the section's first line in the whole output. */
  firstLine: number;
}

/** Receives every data line: the section it belongs to (null: after the last expected one) and its line number. */
export type SectionLine = (section: string | null, line: string, lineNo: number) => void;

export class SectionStream {
  readonly closed = new Map<string, ClosedSection>();
  readonly warnings: string[] = [];
  nowSeconds: number | null = null;
  tzOffsetSeconds: number | null = null;
  private lineNo = 0;
  private next = 0;
  private start = 1;

  constructor(
    private readonly expected: readonly string[],
    private readonly onLine: SectionLine,
  ) {}

  /** The section lines now go to (null once every expected one is closed). */
  get current(): string | null {
    return this.expected[this.next] ?? null;
  }

  push(line: string): void {
    const n = ++this.lineNo;
    if (n === 1 && line.startsWith(NOW_MARKER)) {
      const m = NOW_LINE.exec(line);
      if (m) {
        this.nowSeconds = Number(m[1]);
        this.tzOffsetSeconds = (m[2] === '-' ? -1 : 1) * (Number(m[3]) * 3600 + Number(m[4]) * 60);
      } else this.warnings.push(lineWarning(1, 'server clock line not understood', line));
      this.start = 2;
      return;
    }
    const name = this.current;
    if (name !== null && line.startsWith(RC_MARKER)) {
      const m = RC_LINE.exec(line);
      if (m && m[1] === name) {
        this.closed.set(name, { name, rc: Number(m[2]), firstLine: this.start });
        this.start = n + 1;
        this.next++;
        return;
      }
    }
    this.onLine(name, line, n);
  }
}
