// Step a: find the hijacked account with evidence, let the operator pick or confirm it,
// and show one of its queued messages' headers.
import { z } from 'zod';
import { sampleHeaders } from '../mta/headers.js';
import type { Action } from '../playbook/types.js';
import { StepError } from '../errors.js';
import { scanHost, type AccountWindow } from '../scan/host.js';
import type { UserStats } from '../logs/aggregate.js';
import { printable } from '../text/printable.js';

/** Client IPs kept in the step's result (and the evidence), the IPs custom steps get as topIps, queued ids kept. */
const MAX_IPS = 50;
const TOP_IPS = 10;
const MAX_IDS = 1000;

function clientIpsOf(u: UserStats | undefined): { ip: string; count: number; firstSeen: string | null; lastSeen: string | null }[] {
  const iso = (t: number | null) => (t === null ? null : new Date(t * 1000).toISOString());
  return [...(u?.ipStats ?? [])]
    .sort((a, b) => b.count - a.count || a.ip.localeCompare(b.ip))
    .map((x) => ({ ip: x.ip, count: x.count, firstSeen: iso(x.firstSeen), lastSeen: iso(x.lastSeen) }));
}

const Params = z.object({
  /** Known already (--auth-id): checked against the evidence, not trusted blindly. */
  auth_id: z.string().optional(),
});

export const identify: Action<typeof Params> = {
  name: 'identify',
  params: Params,
  describe: (p) => (p.auth_id ? `confirm ${p.auth_id} as the hijacked account` : 'rank suspects and pick the hijacked account'),
  async run(p, ctx) {
    const binary = (ctx.scope.host as { binary?: string }).binary;
    let window: AccountWindow | undefined;
    // Through the run's journaled view: every scan command is in the journal, within --timeout.
    const report = await scanHost(ctx.host, ctx.journaled, {
      commandTimeoutMs: ctx.commandTimeoutMs,
      includeMessages: true,
      attribution: true,
      detected: { mta: ctx.mta, binary },
      // The log window's per-account figures: the chosen account's client IPs with their counts.
      onAccounts: (w) => void (window = w),
    });
    if (report.status !== 'ok') throw new StepError(`scan of ${ctx.host.name} failed: ${report.reason}`);
    const suspects = report.suspects ?? [];
    const queued = report.messages ?? [];
    // Why the evidence may be partial (log timed out, unreadable, …): the operator weighs the suspects with it.
    for (const f of report.findings.filter((x) => x.rule === 'log' || x.rule === 'attribution')) ctx.say(`note: ${f.message}`);
    for (const s of suspects.slice(0, 5))
      ctx.say(
        `${printable(s.authId, { max: 120 })}: ${s.messages} sent, ${s.queued} queued, ${s.recipients} recipients, ${s.clientIps.length} IP(s) — ${s.rules.join(', ')}`,
      );

    let authId = p.auth_id?.trim();
    if (authId) {
      // Evidence is a rule pointing at the account; queued mail alone is what every customer has.
      if (!suspects.some((s) => s.authId === authId)) {
        const n = queued.filter((m) => m.authId === authId).length;
        const why = n
          ? `${authId} has ${n} queued message(s) but no rule points at it`
          : `${authId} has no queued mail and no rule points at it`;
        const ok = await ctx.ask.confirm('identify.unknown_account', `${why} on ${ctx.host.name}. Act on it anyway?`, false, {
          kind: 'override',
          flag: '--force-account',
        });
        if (!ok) throw new StepError(`${authId} is not supported by the evidence on ${ctx.host.name}: nothing was changed`);
      }
    } else {
      if (!suspects.length)
        throw new StepError(`no suspect on ${ctx.host.name}: nothing points at a hijacked account (queue ${report.queue?.total ?? '?'})`);
      // Unattended, the asker takes only an explicit answer: a purge never runs on a guess.
      authId = await ctx.ask.select(
        'identify.account',
        `Which account is hijacked? (top suspect: ${suspects[0]!.authId}; unattended runs need --auth-id)`,
        suspects.map((s) => ({
          value: s.authId,
          name: `${s.authId}  (${s.messages} sent, ${s.queued} queued, ${s.rules.join(', ')})`,
        })),
        suspects[0]!.authId as string,
      );
    }

    const mine = queued.filter((m) => m.authId === authId);
    const sample = mine.find((m) => m.recipients.length > 1) ?? mine[0];
    let headers = '';
    if (sample) {
      const cmd = ctx.adapter.headersCommand(ctx.mtaHost, sample.id);
      if (cmd) headers = sampleHeaders((await ctx.run(cmd, { destructive: false })).stdout);
      ctx.say(
        `sample ${sample.id} from <${printable(sample.sender, { max: 200 })}> to ${sample.recipients.length} recipient(s):\n${printable(headers, { multiline: true })}`,
      );
      const spam = await ctx.ask.confirm('identify.is_spam', `Is message ${sample.id} (${authId}) spam?`, true);
      if (!spam) throw new StepError(`operator says ${sample.id} from ${authId} is not spam: stopping before anything changes`);
    }
    const at = authId!.lastIndexOf('@');
    const ips = clientIpsOf(window?.users?.find((u) => u.authId === authId));
    return {
      authId,
      domain: at > 0 ? authId!.slice(at + 1) : null,
      local: at > 0 ? authId!.slice(0, at) : authId,
      queuedBefore: report.queue?.total ?? 0,
      accountQueued: mine.length,
      bouncesBefore: report.queue?.bounces ?? 0,
      sampleId: sample?.id ?? null,
      sampleHeaders: headers,
      suspects: suspects.slice(0, 5).map((s) => ({ authId: s.authId, messages: s.messages, queued: s.queued, rules: s.rules })),
      // Whose bounces are this account's backscatter: the senders its mail used (log and queue).
      // The log window's client IPs of the account, most messages and logins first (evidence, custom steps).
      clientIps: ips.slice(0, MAX_IPS),
      topIps: ips.slice(0, TOP_IPS).map((x) => x.ip),
      // The rules that fired for the account, with their numbers.
      findings: report.findings
        .filter((f) => f.authId === authId)
        .map((f) => ({ rule: f.rule, severity: f.severity, message: f.message, ...(f.evidence ? { evidence: f.evidence } : {}) })),
      accountIds: mine.slice(0, MAX_IDS).map((m) => m.id),
      forgedSenders: [
        ...new Set([
          ...(suspects.find((s) => s.authId === authId)?.senders ?? []),
          ...mine.filter((m) => m.sender && !m.senderTruncated).map((m) => m.sender.toLowerCase()),
        ]),
      ],
    };
  },
};
