// The text of a custom step's shell command (`command:` of the command action, the script of a
// `local` step's `sh -c`): written by the playbook author, filled from the run's values only
// through quote() (src/transport/quote.ts), so `{{ identify.authId }}` is always one quoted word.
// A placeholder where quoting does not protect — inside '…' or "…", after a backslash, in a
// comment, in a heredoc — is refused before anything runs.
import { ConfigError } from '../errors.js';
import { lookup } from '../playbook/template.js';
import { quote, operatorCommand, type Sh } from '../transport/quote.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}/y;

/** Where each placeholder sits, shell-wise: 'word' (bare, where a quoted word is one word) or why not. */
function positions(text: string): { start: number; end: number; path: string; where: string }[] {
  const out: { start: number; end: number; path: string; where: string }[] = [];
  let state: 'word' | 'single' | 'double' | 'ansi' | 'comment' = 'word';
  const heredoc = /<<(?!<)/.test(text);
  // A backslash escapes the next character, unless that starts a placeholder: then it is reported.
  const skip = (i: number) => {
    PLACEHOLDER.lastIndex = i + 1;
    return PLACEHOLDER.exec(text) ? 0 : 1;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    PLACEHOLDER.lastIndex = i;
    const m = ch === '{' ? PLACEHOLDER.exec(text) : null;
    if (m) {
      const escaped = state === 'word' && i > 0 && text[i - 1] === '\\';
      const where = heredoc ? 'heredoc' : escaped ? 'backslash' : state === 'word' ? 'word' : state;
      out.push({ start: i, end: i + m[0].length, path: m[1]!, where });
      i += m[0].length - 1;
      continue;
    }
    switch (state) {
      case 'word':
        if (ch === '\\') i += skip(i);
        else if (ch === "'") state = 'single';
        else if (ch === '"') state = 'double';
        else if (ch === '$' && text[i + 1] === "'") ((state = 'ansi'), i++);
        // A comment starts a word: `a#b` is no comment, `a #b` and `;#b` are.
        else if (ch === '#' && (i === 0 || /[\s;&|()]/.test(text[i - 1]!))) state = 'comment';
        break;
      case 'single':
        if (ch === "'") state = 'word';
        break;
      case 'double':
      case 'ansi':
        if (ch === '\\') i += skip(i);
        else if ((state === 'double' && ch === '"') || (state === 'ansi' && ch === "'")) state = 'word';
        break;
      case 'comment':
        if (ch === '\n') state = 'word';
        break;
    }
  }
  return out;
}

const WHY: Record<string, string> = {
  single: "inside '…' (write it bare: mailsweep quotes it)",
  double: 'inside "…" (write it bare: mailsweep quotes it; in double quotes $(…) in the value would run)',
  ansi: "inside $'…'",
  backslash: 'after a backslash',
  comment: 'in a comment (a line break in the value would end it)',
  heredoc: 'in a command with a heredoc (<<): quoting does not apply in its body; put the data on stdin',
};

/** Every `{{ name }}` of a shell text, checked to sit where one quoted word is one word. */
/** A simple command that hands its words to another shell: there a quoted word is code again. */
const REEVAL = /(^|[\s;&|(`])(eval|ssh|xargs|(?:ba|da|k|z|mk)?sh\s+(?:-\S+\s+)*-[A-Za-z]*c|su\s+.*-c|sudo\s+.*sh\s+-[A-Za-z]*c)(?=\s|$)/;

export function checkShellTemplate(text: string, where: string): string[] {
  const ps = positions(text);
  for (const p of ps) if (p.where !== 'word') throw new ConfigError(`${where}: {{ ${p.path} }} ${WHY[p.where]}`);
  for (const p of ps) {
    // The simple command the placeholder is in: from the last separator before it.
    const before = text.slice(0, p.start);
    const cmd = before.slice(
      Math.max(0, ...[';', '&', '|', '\n', '(', '`'].map((c) => (before.includes(c) ? before.lastIndexOf(c) + 1 : 0))),
    );
    if (REEVAL.test(cmd))
      throw new ConfigError(
        `${where}: {{ ${p.path} }} goes to a command that runs its words as shell code again (eval, sh -c, ssh, su -c, xargs): put the value on stdin`,
      );
  }
  return ps.map((p) => p.path.split('.')[0]!);
}

/** One value as shell words: a string or number is one quoted word, a list one word per item. */
function words(v: unknown, path: string, where: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return quote(String(v));
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    return v.length ? v.map((x) => quote(x as string | number)).join(' ') : "''";
  throw new ConfigError(
    `${where}: {{ ${path} }} is ${v === null ? 'null' : Array.isArray(v) ? 'a list of non-scalars' : typeof v}: only text, numbers and lists of them go into a command`,
  );
}

/** The author's text with every placeholder replaced by its value, shell-quoted. */
export function renderShell(text: string, scope: Record<string, unknown>, where: string): Sh {
  checkShellTemplate(text, where);
  let out = '';
  let at = 0;
  for (const p of positions(text)) {
    const v = lookup(scope, p.path);
    if (v === undefined) throw new ConfigError(`${where}: {{ ${p.path} }} is not defined`);
    out += text.slice(at, p.start) + words(v, p.path, where);
    at = p.end;
  }
  // The playbook author's text is code by their choice; every value in it went through quote().
  return operatorCommand(out + text.slice(at));
}

/**
 * Data for a custom step's stdin: one value a line. A value with a line break (or NUL) would
 * become two lines — two IPs, two accounts — so it is refused, naming the step, before anything runs.
 */
export function stdinLines(v: unknown, where: string): string {
  if (v === undefined || v === null || v === '') return '';
  // A list of values and lists (`[ "{{ account }}", "{{ identify.topIps }}" ]`) is one line per value.
  const items = Array.isArray(v) ? v.flat() : [v];
  const lines = items.map((x, i) => {
    const s = typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x);
    if (/[\r\n\0]/.test(s))
      throw new ConfigError(`${where}[${i}]: the value holds a line break or NUL; it would not be one stdin line, so nothing was run`);
    return s;
  });
  return lines.length ? `${lines.join('\n')}\n` : '';
}
