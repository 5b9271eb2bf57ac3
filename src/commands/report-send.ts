// The report's sending: every pending notice through its channel, oldest first (a failing channel
// stops for the run, its notices kept), and `--test-channel`'s one test notice.
import { join } from 'node:path';
import { deliver } from '../alerts/channels.js';
import { type ChannelConfig, type ReportConfig } from '../alerts/config.js';
import { type Notice, type ReportStore } from '../alerts/store.js';
import { ConfigError } from '../errors.js';
import { printable } from '../text/printable.js';
import type { ReportIo } from './report-options.js';

/** `--test-channel NAME`: one test notice through one channel, result on stdout; no scan, no lock. */
export async function testChannel(cfg: ReportConfig, name: string, now: number, io: ReportIo): Promise<number> {
  const ch = cfg.channels.find((c) => c.name === name);
  if (!ch) {
    const known = cfg.channels.map((c) => c.name).join(', ');
    throw new ConfigError(
      `--test-channel ${name}: no such channel${cfg.file ? ` in ${cfg.file}` : ' (no --config given)'}${known ? `; channels: ${known}` : ''}`,
    );
  }
  const notice: Notice = {
    status: 'firing',
    reason: 'test',
    at: now,
    incident: {
      id: 0,
      key: 'test:mailsweep',
      kind: 'host',
      subject: 'mailsweep-test',
      severity: 'warning',
      openedAt: now,
      lastSeenAt: now,
      lastNotifiedAt: now,
      resolvedAt: null,
      hosts: ['mailsweep-test'],
      evidence: [
        {
          host: 'mailsweep-test',
          severity: 'warning',
          rules: ['test'],
          messages: [`test notice from mailsweep report --test-channel ${name}: the channel works`],
        },
      ],
    },
  };
  const r = await deliver(ch, notice, { env: io.env });
  if (!r.ok) {
    io.stderr(`mailsweep: channel ${name} (${ch.type}) failed after ${r.attempts} attempt(s): ${printable(r.detail, { max: 500 })}\n`);
    return 3;
  }
  io.stdout(`channel ${name} (${ch.type}): test notice delivered (${printable(r.detail, { max: 200 })})\n`);
  return 0;
}

/** Send every pending notice, channel by channel, oldest first; a failing channel stops for this run. */
export async function flush(
  store: ReportStore,
  channels: ChannelConfig[],
  now: number,
  io: ReportIo,
): Promise<{ errors: Record<string, string>; sent: Map<number, string[]> }> {
  const errors: Record<string, string> = {};
  const sent = new Map<number, string[]>();
  for (const ch of channels) {
    for (const item of await store.pending(ch.name)) {
      const r = await deliver(ch, item.notice, { env: io.env });
      if (!r.ok) {
        await store.markFailed(item.id, r.detail, now);
        errors[ch.name] = r.detail;
        break;
      }
      await store.markSent(item.id, now);
      sent.set(item.id, [...(sent.get(item.id) ?? []), ch.name]);
    }
  }
  return { errors, sent };
}
