// What an incident run actually did, read back from its journal: the customer notice and the
// summary state these facts, never what a step was asked to do.
import type { Stamped } from '../playbook/journal.js';
import type { StepContext } from '../playbook/types.js';

export type ResetState = 'done' | 'skipped' | 'declined' | 'dry-run' | 'not-run';

export interface IncidentFacts {
  reset: ResetState;
  /** Where the new password is (only when reset is 'done' and the file was written). */
  passwordFile: string | null;
  suspendedOutgoing: boolean;
  /** Messages removed (or held) by the spam purge, summed over every round and attempt. */
  spamRemoved: number;
  backscatterRemoved: number;
  /** The purge held (quarantined) instead of deleting. */
  held: boolean;
  /** Queue size after the last purge round, when one ran. */
  queueAfter: number | null;
}

export interface FactSteps {
  reset: string;
  purge: string;
  backscatter: string;
}

/** A step's instances: the step itself and its repeat rounds (`purge@2`, `purge@3`, …). */
const instanceOf = (id: string) => (s: string) => s === id || s.startsWith(`${id}@`);

function count(detail: unknown): number {
  const d = detail as { count?: unknown; ids?: unknown } | undefined;
  if (typeof d?.count === 'number') return d.count;
  return Array.isArray(d?.ids) ? d.ids.length : 0;
}

export function incidentFacts(ctx: Pick<StepContext, 'journal' | 'dryRun'>, steps: FactSteps): IncidentFacts {
  const ev: Stamped[] = ctx.journal.events;
  // Effects are journaled per batch as messages go: a killed and resumed run counts every batch once.
  const removed = (id: string) =>
    ev
      .filter(
        (e): e is Extract<Stamped, { t: 'effect' }> =>
          e.t === 'effect' && instanceOf(id)(e.step) && (e.key === 'delete' || e.key === 'hold'),
      )
      .reduce((n, e) => n + count(e.detail), 0);
  const held = ev.some(
    (e) => e.t === 'effect' && (instanceOf(steps.purge)(e.step) || instanceOf(steps.backscatter)(e.step)) && e.key === 'hold',
  );

  const set = ctx.journal.effect(steps.reset, 'password-set');
  let reset: ResetState = 'not-run';
  let passwordFile: string | null = null;
  let suspendedOutgoing = false;
  if (set) {
    reset = 'done';
    const d = set.detail as { passwordFile?: unknown } | undefined;
    passwordFile = typeof d?.passwordFile === 'string' ? d.passwordFile : null;
    const done = ctx.journal.doneResult(steps.reset).result as { suspendedOutgoing?: unknown } | undefined;
    suspendedOutgoing = done?.suspendedOutgoing === true;
  } else {
    const skip = ev.filter((e): e is Extract<Stamped, { t: 'step-skip' }> => e.t === 'step-skip' && e.step === steps.reset).at(-1);
    const done = ctx.journal.doneResult(steps.reset).result as { dryRun?: unknown } | undefined;
    if (skip) reset = /declined/.test(skip.reason) ? 'declined' : 'skipped';
    else if (done?.dryRun === true || ctx.dryRun) reset = 'dry-run';
  }

  const last = ev
    .filter(
      (e): e is Extract<Stamped, { t: 'step-done' }> =>
        e.t === 'step-done' && (instanceOf(steps.purge)(e.step) || instanceOf(steps.backscatter)(e.step)),
    )
    .map((e) => (e.result as { queueAfter?: unknown } | undefined)?.queueAfter)
    .filter((n): n is number => typeof n === 'number')
    .at(-1);

  return {
    reset,
    passwordFile,
    suspendedOutgoing,
    spamRemoved: removed(steps.purge),
    backscatterRemoved: removed(steps.backscatter),
    held,
    queueAfter: last ?? null,
  };
}

/** The last evidence bundle this run wrote (an `evidence` step's result), if any. */
export function latestEvidence(events: readonly Stamped[]): { dir: string; archive: string } | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.t !== 'step-done') continue;
    const r = e.result as { dir?: unknown; archive?: unknown } | undefined;
    if (typeof r?.dir === 'string' && typeof r.archive === 'string' && r.archive.endsWith('.tar.gz'))
      return { dir: r.dir, archive: r.archive };
  }
  return null;
}
