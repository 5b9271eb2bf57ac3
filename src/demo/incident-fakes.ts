// What `mailsweep demo --incident` stands up on loopback: the demo fleet with its hijacked host
// answered by a stateful fake exim (fake-exim.ts), a fake WHM (HTTPS, a certificate made for this
// run) that resets the mailbox password, and an SMTP sink that catches the customer notice. The
// inventory names them as a real one would (cpanel_url, cpanel_token_file, notify_smtp_host…),
// so the incident runs its own code path against them. close() stops every one, once.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeExim } from './fake-exim.js';
import { DEAD_PORT } from './fake-host.js';
import { FakeWhm } from './fake-whm.js';
import { startFakeFleet, type FakeFleet, type FleetHostEntry } from './fleet.js';
import { SmtpSink } from './smtp-sink.js';

/** The recorded hijacked host of the demo fleet, and the ground truth its recording came with. */
export const INCIDENT_HOST = 'mx1.dc1.example.net';
/** Where the fake WHM says the customer's notices go (accountsummary's contact address). */
export const CUSTOMER_CONTACT = 'contact@example-customer.test';

/** The recording's cPanel accounts: domain → account, account → mailboxes. */
const DOMAINS = { 'example.test': 'examplec', 'shop.test': 'shopc' };
const MAILBOXES = { examplec: ['alice@example.test', 'bob@example.test', 'dave@example.test'], shopc: ['carol@shop.test'] };

export interface IncidentFakes {
  dir: string;
  fleet: FakeFleet;
  mta: FakeExim;
  whm: FakeWhm;
  sink: SmtpSink;
  /** The account the recording's lab seeded as hijacked (scan-meta.json); the demo's scan must find it too. */
  seededAccount: string;
  /** Every loopback port the fakes listen on (to check none is left open). */
  ports: number[];
  close(): Promise<void>;
}

/** The lab's record of what it seeded on the recorded host (written with the recording). */
async function seededAccount(recording: string): Promise<string> {
  const meta = JSON.parse(await readFile(join(recording, 'scan-meta.json'), 'utf8')) as { expected?: { compromisedAuthId?: unknown } };
  const a = meta.expected?.compromisedAuthId;
  if (typeof a !== 'string' || a === '') throw new Error(`${recording}/scan-meta.json names no compromised account`);
  return a;
}

/** Start everything; on a failure half-way, stop what did start before throwing. */
export async function startIncidentFakes(
  dir: string,
  entries: FleetHostEntry[],
  recordingOf: (host: string) => string,
): Promise<IncidentFakes> {
  const entry = entries.find((e) => e.name === INCIDENT_HOST);
  if (!entry) throw new Error(`the demo fleet has no ${INCIDENT_HOST}`);
  await mkdir(dir, { recursive: true });
  const recording = recordingOf(INCIDENT_HOST);
  const account = await seededAccount(recording);
  const mta = new FakeExim({ dir: recording });
  // The recording predates the lab's bounces to the spam's forged senders: see readdressBounces.
  mta.queue.readdressBounces(mta.queue.sendersOf(account));
  entry.answer = (command, stdin) => mta.answer(command, stdin);

  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    const all = stops.splice(0).reverse();
    await Promise.allSettled(all.map((s) => s()));
  };
  try {
    // A fresh token per run, in a file only this user reads: the inventory names the file, never the token.
    const token = randomBytes(24).toString('hex');
    const whm = await FakeWhm.start({ token, domains: DOMAINS, mailboxes: MAILBOXES, contacts: { examplec: CUSTOMER_CONTACT } });
    const whmPort = whm.port;
    stops.push(() => whm.close());
    const sink = await SmtpSink.start();
    const sinkPort = sink.port;
    stops.push(() => sink.close());
    await writeFile(join(dir, 'whm-token'), `${token}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'whm-ca.pem'), whm.cert);
    entry.vars = {
      ...(entry.vars ?? {}),
      cpanel_url: whm.url,
      cpanel_token_file: join(dir, 'whm-token'),
      cpanel_ca_file: join(dir, 'whm-ca.pem'),
      notify_smtp_host: '127.0.0.1',
      notify_smtp_port: sinkPort,
      notify_from: 'abuse@provider.example',
    };
    const fleet = await startFakeFleet(dir, entries);
    stops.push(() => fleet.close());
    const ports = [...fleet.hosts.map((h) => h.port).filter((p) => p !== DEAD_PORT), whmPort, sinkPort];
    return { dir, fleet, mta, whm, sink, seededAccount: account, ports, close };
  } catch (e) {
    await close();
    throw e;
  }
}
