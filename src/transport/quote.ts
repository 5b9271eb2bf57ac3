// The only way a command line is built: every interpolated value is POSIX single-quoted.
// Anything read from a server (sender, auth id, queue id) is attacker-controlled.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting (shlex.quote): safe words pass, everything else is single-quoted. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s === '') return "''";
  if (SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

declare const shellBrand: unique symbol;
/**
 * A shell command made only by `sh`, `shLines` or a server script file (src/mta/script.ts): a
 * string glued with `+` or a template literal is a plain string and does not type-check as one.
 */
export type Sh = string & { readonly [shellBrand]: true };

/** Several commands, one a line. */
export function shLines(...lines: readonly Sh[]): Sh {
  return shJoin(lines, '\n');
}

/** Shell fragments joined by a fixed separator (each fragment is already safe: the result is too). */
export function shJoin(parts: readonly Sh[], separator: '\n' | ' ' | ':' | '; ' | ' && ' | ' || '): Sh {
  return parts.join(separator) as Sh;
}

/**
 * A command the operator wrote (a playbook's `command:`, the inventory's `contain_commands`,
 * `password_reset_command`): code by the operator's choice, like the literal parts of `sh`. The
 * one way a plain string becomes an Sh without `sh`, so a review can find every use.
 */
export function operatorCommand(text: string): Sh {
  return text as Sh;
}

/** A shell fragment that is trusted by construction (came from `sh` or a literal). */
export class ShellCommand {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Arg = string | number | ShellCommand | ReadonlyArray<string | number>;

/**
 * Tagged template: literal parts are trusted, every `${value}` is quoted;
 * arrays expand to several quoted words; nested `sh` fragments pass through.
 */
export function sh(parts: TemplateStringsArray, ...values: Arg[]): Sh {
  let out = parts[0] ?? '';
  values.forEach((v, i) => {
    if (v instanceof ShellCommand) out += v.text;
    else if (Array.isArray(v)) out += v.map((x) => quote(x)).join(' ');
    else out += quote(v as string | number);
    out += parts[i + 1] ?? '';
  });
  return out as Sh;
}

/** Wrap a built command so it can be nested into another `sh` template unquoted. */
export function raw(cmd: Sh): ShellCommand {
  return new ShellCommand(cmd);
}
