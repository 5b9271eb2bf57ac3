// `contain_commands:` in the inventory: how a host without cPanel holds, suspends and releases an
// account (a postfix check_sasl_access map + postmap, an exim ACL file, a panel's own CLI). Each
// command gets the account on its stdin, one line, and never in its text: it reads it itself
// (`read -r u`). Validated when the inventory loads (src/inventory/vars.ts takes CONTAIN_VARS).
import { z } from 'zod';

/** What `contain` can do to an account, in the order it does them (release undoes in reverse). */
export const MEASURES = ['hold', 'suspend_outgoing', 'suspend_login', 'kick'] as const;
export type Measure = (typeof MEASURES)[number];
/** The measures that are a state to undo (kick only ends sessions: nothing to release). */
export type ReversibleMeasure = Exclude<Measure, 'kick'>;

const command = z.string().trim().min(1);
const reversible = z
  .object({
    /** Puts the measure in place for the account read from stdin. */
    contain: command,
    /** Takes it away again: `mailsweep release` runs it. */
    release: command,
    /** Optional: exit 0 when already in place, 1 when not (anything else: an error). Without it the state before is unknown. */
    check: command.optional(),
  })
  .strict();

export const ContainCommandsSchema = z
  .object({
    hold: reversible.optional(),
    suspend_outgoing: reversible.optional(),
    suspend_login: reversible.optional(),
    /** Replaces the built-in `doveadm kick` (the account on stdin as well). */
    kick: command.optional(),
  })
  .strict();
export type ContainCommands = z.infer<typeof ContainCommandsSchema>;

export const CONTAIN_VARS = {
  contain_commands: {
    schema: ContainCommandsSchema,
    expected:
      'a mapping of hold / suspend_outgoing / suspend_login to {contain: COMMAND, release: COMMAND, check: COMMAND (optional)}, and kick: COMMAND (optional)',
  },
};

/** The host's contain_commands (validated at load; parsed again for HostSpecs built elsewhere). */
export function containCommands(vars: Record<string, unknown>): ContainCommands {
  const v = vars.contain_commands;
  if (v === undefined || v === null) return {};
  const r = ContainCommandsSchema.safeParse(v);
  return r.success ? r.data : {};
}

/**
 * The account as it goes on a command's stdin: one line. A newline (or any control character)
 * would let the account say two things to the reader, so it is refused, never cleaned.
 */
export function stdinAccount(account: string): string | null {
  // eslint-disable-next-line no-control-regex
  return account === '' || /[\x00-\x1f\x7f]/.test(account) ? null : `${account}\n`;
}
