// Containment on the host itself: the inventory's contain_commands (check, contain, release) and
// `doveadm kick`. The account reaches each command on its stdin — one line, never in the command's
// text — and a command that fails is a step error with its exit code and first line of stderr.
import { StepError } from '../errors.js';
import type { StepContext } from '../playbook/types.js';
import { sh } from '../transport/quote.js';
import { stdinAccount, type ContainCommands, type ReversibleMeasure } from './contain-commands.js';
import type { Prior, Undo } from './containment.js';

/** Reads the account from stdin: doveadm never sees it on a command line the shell could expand. */
export const DOVEADM_KICK = 'IFS= read -r u && doveadm kick "$u"';

/**
 * How `doveadm kick USER` says the user had no session (dovecot 2.3.19, the lab's bookworm-exim):
 * exit 68 (doveadm's "not found", EX_NOHOST) and `no users kicked` on stdout, nothing on stderr.
 * With sessions it exits 0 and prints `USER kicked connections from the following users:`.
 */
export const DOVEADM_NOT_FOUND = 68;
export const noSessionKicked = (code: number | null, stdout: string): boolean =>
  code === DOVEADM_NOT_FOUND && /^no users kicked$/m.test(stdout);

const first = (s: string) => s.split('\n').find((l) => l.trim()) ?? '';

export class HostContain {
  private readonly stdin: string;

  constructor(
    private readonly ctx: StepContext,
    private readonly commands: ContainCommands,
    account: string,
  ) {
    const line = stdinAccount(account);
    if (line === null)
      throw new StepError(
        `the account ${JSON.stringify(account)} holds a newline or control character: refused (it goes to the host's commands as one line on stdin)`,
      );
    this.stdin = line;
  }

  /** Runs an inventory command under /bin/sh, the account on stdin. */
  private run(command: string, destructive: boolean) {
    return this.ctx.run(sh`/bin/sh -c ${command}`, { destructive, stdin: this.stdin });
  }

  /** `check` exits 0 when the measure is already in place, 1 when not; without one the state is unknown. */
  async prior(measure: ReversibleMeasure): Promise<Prior> {
    const check = this.commands[measure]?.check;
    if (!check) return 'unknown';
    const r = await this.run(check, false);
    if (r.code === 0) return 'on';
    if (r.code === 1) return 'off';
    throw new StepError(
      `contain_commands.${measure}.check failed (exit ${r.code}): ${first(r.stderr)}; nothing was changed for ${measure}`,
    );
  }

  async apply(measure: ReversibleMeasure): Promise<Undo> {
    const c = this.commands[measure]!;
    const r = await this.run(c.contain, true);
    if (!this.ctx.dryRun && r.code !== 0)
      throw new StepError(`contain_commands.${measure}.contain failed (exit ${r.code}): ${first(r.stderr)}`);
    return { via: 'command', command: c.release };
  }

  async undo(u: Extract<Undo, { via: 'command' }>, measure: string): Promise<void> {
    const r = await this.run(u.command, true);
    if (!this.ctx.dryRun && r.code !== 0)
      throw new StepError(`release command for ${measure} failed (exit ${r.code}): ${first(r.stderr)}; it is still in place`);
  }

  /**
   * Ends the account's IMAP/POP sessions: the inventory's kick command, else `doveadm kick` when
   * dovecot is on the host (`command -v doveadm`, read-only, so a dry run says it too).
   * Returns why nothing was done, or null when it was (or, dry run, would be).
   */
  async kick(account: string): Promise<string | null> {
    // doveadm takes a user *mask*: * and ? would end other customers' sessions too.
    if (!this.commands.kick && /[*?]/.test(account))
      throw new StepError(`the account ${JSON.stringify(account)} holds * or ?, which doveadm kick reads as a wildcard: refused`);
    if (!this.commands.kick) {
      const found = await this.ctx.run(sh`command -v doveadm`, { destructive: false });
      if (found.code !== 0) return `dovecot is not on ${this.ctx.host.name} (no doveadm in PATH): no IMAP/POP sessions ended`;
    }
    const r = await this.run(this.commands.kick ?? DOVEADM_KICK, true);
    if (this.ctx.dryRun || r.code === 0) return null;
    // Nothing to end is not a failure; any other non-zero exit is (e.g. dovecot not running: exit 75).
    if (noSessionKicked(r.code, r.stdout)) return `${account} had no open IMAP/POP session`;
    throw new StepError(`${this.commands.kick ? 'contain_commands.kick' : 'doveadm kick'} failed (exit ${r.code}): ${first(r.stderr)}`);
  }
}
