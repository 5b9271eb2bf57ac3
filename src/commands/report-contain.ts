// The report's automatic containment: for each account the policy picked (src/alerts/contain-policy.ts),
// the built-in contain playbook on that host — the same run as `mailsweep contain --yes`, journaled
// in the runs dir, undone by `mailsweep release`. What it did, would do (dry-run), or could not do
// becomes part of the account's alert. At most max_accounts accounts per run; never twice in one
// incident (an account an operator released stays released until the incident closes).
import { MEASURES, type Measure } from '../actions/contain-commands.js';
import { findContainment } from '../actions/contain-journal.js';
import { containWays } from '../actions/contain.js';
import { ACTION_NAMES, ACTIONS, PREFLIGHT } from '../actions/index.js';
import { incidentalSecrets } from '../actions/secrets.js';
import type { ContainCandidate, ContainPolicy } from '../alerts/contain-policy.js';
import type { ContainmentNote } from '../alerts/store.js';
import type { HostSpec } from '../inventory/types.js';
import { runPlaybook } from '../playbook/engine.js';
import { loadPlaybook } from '../playbook/load.js';
import { plainRenderer } from '../playbook/render-plain.js';
import { transportFor } from '../scan/connect.js';
import type { KnownHostsFile } from '../transport/known-hosts.js';
import { quote } from '../transport/quote.js';
import { builtinPlaybook } from './contain.js';

const FLAG: Record<Measure, string> = {
  hold: '--hold',
  suspend_outgoing: '--suspend-outgoing',
  suspend_login: '--suspend-login',
  kick: '--kick',
};

export interface AutoContainOptions {
  policy: ContainPolicy;
  hosts: ReadonlyMap<string, HostSpec>;
  /** When the account's open incident opened (ms); absent: the incident is new in this run. */
  incidentOpenedAt: (account: string) => number | undefined;
  runsDir: string;
  /** The report's own -i / --known-hosts, repeated in the commands the alert prints. */
  inventory?: string;
  knownHostsPath?: string;
  knownHosts: KnownHostsFile;
  hostKeyPolicy: 'strict' | 'accept-new';
  perHostKnownHosts: boolean;
  /** The report run's deadline (ms since epoch): no containment starts after it. */
  deadlineAt: number;
  /** Each containment run's lines (plain renderer), for --verbose style logging. */
  log?: (line: string) => void;
}

/** `mailsweep contain|release HOST --auth-id ACCOUNT …` with the report's inventory and runs dir. */
function command(verb: 'contain' | 'release', host: string, account: string, extra: string[], o: AutoContainOptions): string {
  const words = ['mailsweep', verb, host, '--auth-id', account, ...extra];
  if (o.inventory) words.push('-i', o.inventory);
  if (o.knownHostsPath) words.push('--known-hosts', o.knownHostsPath);
  words.push('--runs-dir', o.runsDir);
  return words.map((w) => quote(w)).join(' ');
}

const containCmd = (c: ContainCandidate, o: AutoContainOptions) =>
  command(
    'contain',
    c.host,
    c.account,
    o.policy.measures.map((m) => FLAG[m]),
    o,
  );

/** Contains (or, dry-run, says it would) every candidate the policy allows this run. */
export async function autoContain(candidates: ContainCandidate[], o: AutoContainOptions): Promise<ContainmentNote[]> {
  const notes: ContainmentNote[] = [];
  const taken = new Set<string>();
  const playbook = o.policy.mode === 'contain' ? await loadPlaybook(builtinPlaybook('contain'), ACTION_NAMES) : undefined;
  for (const c of candidates) {
    const base = { host: c.host, account: c.account, rules: c.rules, measures: [...o.policy.measures] };
    const host = o.hosts.get(c.host);
    if (!host) {
      notes.push({ ...base, outcome: 'cannot', detail: `${c.host} is not in the inventory given (-i): no way to reach it` });
      continue;
    }
    // Contained (or released) earlier in this incident: not again — an operator's release stands.
    const openedAt = o.incidentOpenedAt(c.account);
    if (openedAt !== undefined) {
      const earlier = findContainment(o.runsDir, c.host, c.account);
      if (earlier && Date.parse(earlier.at) >= openedAt) {
        const applied = earlier.effects.filter((e) => e.applied && e.undo).map((e) => e.measure);
        const left = applied.filter((m) => !earlier.released.has(m));
        notes.push(
          left.length || !applied.length
            ? {
                ...base,
                outcome: 'already-contained',
                measures: earlier.effects.filter((e) => e.applied || e.prior === 'on').map((e) => e.measure),
                runId: earlier.runId,
                release: command('release', c.host, c.account, ['--run', earlier.runId], o),
              }
            : {
                ...base,
                outcome: 'released',
                runId: earlier.runId,
                detail: `contained in run ${earlier.runId}, released since: not contained again while this incident is open`,
              },
        );
        continue;
      }
    }
    const key = c.account.toLowerCase();
    if (!taken.has(key) && taken.size >= o.policy.maxAccounts) {
      notes.push({
        ...base,
        outcome: 'rate-limited',
        contain: containCmd(c, o),
        detail: `auto_contain.max_accounts (${o.policy.maxAccounts}) reached in this run: alert only`,
      });
      continue;
    }
    const { problems } = containWays(host.vars, o.policy.measures, 'mailbox');
    if (problems.length) {
      notes.push({ ...base, outcome: 'cannot', detail: problems.join('; ') });
      continue;
    }
    if (Date.now() >= o.deadlineAt) {
      notes.push({ ...base, outcome: 'deadline', contain: containCmd(c, o), detail: 'the report run reached its deadline first' });
      continue;
    }
    taken.add(key);
    if (!playbook) {
      notes.push({ ...base, outcome: 'would-contain', contain: containCmd(c, o), detail: 'auto_contain.mode is dry-run' });
      continue;
    }
    notes.push(await containOne(c, host, playbook, o));
  }
  return notes;
}

async function containOne(
  c: ContainCandidate,
  host: HostSpec,
  playbook: Awaited<ReturnType<typeof loadPlaybook>>,
  o: AutoContainOptions,
): Promise<ContainmentNote> {
  const base = { host: c.host, account: c.account, rules: c.rules, measures: [...o.policy.measures] };
  const transport = transportFor(host, {
    knownHosts: o.knownHosts,
    hostKeyPolicy: o.hostKeyPolicy,
    perHostKnownHosts: o.perHostKnownHosts,
    connectTimeoutMs: Math.min(o.policy.timeoutMs, 10_000),
  });
  try {
    const out = await runPlaybook({
      playbook,
      host,
      transport,
      actions: ACTIONS,
      preflight: PREFLIGHT,
      vars: { auth_id: c.account, measures: o.policy.measures.join(','), scope: 'mailbox' },
      dryRun: false,
      // The policy in the report config is the operator's yes to this plan; no safety question is answered by it.
      unattended: true,
      answers: {},
      skip: new Set(),
      runsDir: o.runsDir,
      secrets: incidentalSecrets(host.vars),
      renderer: plainRenderer({ out: (l) => o.log?.(l), label: 'auto-contain' }),
      commandTimeoutMs: o.policy.timeoutMs,
    });
    const result = out.results.contain as { contained?: Measure[]; alreadyInPlace?: Measure[]; notes?: string[] } | undefined;
    if (out.status !== 'ok') {
      // What it did before the failure is journaled: release undoes exactly that, if anything.
      const partial = findContainment(o.runsDir, c.host, c.account, out.runId)?.effects.some((e) => e.applied && e.undo);
      return {
        ...base,
        outcome: 'failed',
        runId: out.runId,
        contain: containCmd(c, o),
        ...(partial ? { release: command('release', c.host, c.account, ['--run', out.runId], o) } : {}),
        detail: out.error ?? `the containment run ended ${out.status}`,
      };
    }
    const measures = MEASURES.filter((m) => result?.contained?.includes(m) || result?.alreadyInPlace?.includes(m));
    return {
      ...base,
      outcome: 'contained',
      measures,
      runId: out.runId,
      release: command('release', c.host, c.account, ['--run', out.runId], o),
      ...(result?.notes?.length ? { detail: result.notes.join('; ') } : {}),
    };
  } catch (e) {
    return { ...base, outcome: 'failed', contain: containCmd(c, o), detail: (e as Error).message };
  } finally {
    await transport.close();
  }
}
