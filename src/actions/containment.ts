// What containment journals, so `release` (and a resumed run) know exactly what was done and how
// to undo it. One effect per measure, key `contain:<measure>`; a release writes `release:<measure>`
// naming the contain run it undid.
import type { Measure } from './contain-commands.js';

/** The measure's state before the run touched it: 'on' is left alone and never released. */
export type Prior = 'on' | 'off' | 'unknown';

/** How to undo one measure, as recorded when it was put in place. */
export type Undo =
  /** A UAPI function on a mailbox (via uapi_cpanel) or a WHM API 1 function on a cPanel account. */
  | { via: 'whm'; api: 'uapi' | 'whm'; fn: string; cpanelUser: string; email?: string; call: string }
  /** The host's own release command (contain_commands), the account on its stdin. */
  | { via: 'command'; command: string };

export interface ContainEffect {
  measure: Measure;
  account: string;
  /** 'account': the whole cPanel account that owns the mailbox's domain (WHM API 1). */
  scope: 'mailbox' | 'account';
  via: 'whm' | 'command' | 'doveadm';
  prior: Prior;
  /** false: already in place before (prior 'on'), or nothing to do (kick without dovecot). */
  applied: boolean;
  /** null: nothing to undo (not applied, or kick: sessions once ended stay ended). */
  undo: Undo | null;
  note?: string;
}

export interface ReleaseEffect {
  measure: Measure;
  account: string;
  /** The contain run whose measure this undid. */
  containRun: string;
  call: string;
}

export const containKey = (m: Measure) => `contain:${m}`;
export const releaseKey = (m: Measure) => `release:${m}`;

/** What a measure is, in the operator's words. */
export const MEASURE_WORDS: Record<Measure, string> = {
  hold: 'hold outgoing mail (queued, not sent)',
  suspend_outgoing: 'suspend outgoing mail (rejected)',
  suspend_login: 'suspend logins',
  kick: 'end open IMAP/POP sessions',
};

/** What lifting a measure gives back, in the operator's words. */
export const RELEASE_WORDS: Record<Exclude<Measure, 'kick'>, string> = {
  hold: 'outgoing mail no longer held; what the hold queued is sent',
  suspend_outgoing: 'outgoing mail accepted again',
  suspend_login: 'logins allowed again',
};

/** Accounts as printed in a command line the operator may copy: shell-quoted by the caller. */
export function describeUndo(u: Undo): string {
  return u.via === 'whm' ? u.call : `release command: ${u.command}`;
}
