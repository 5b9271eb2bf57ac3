// Builders for fake-fleet tests: exim hosts with synthetic -bp listings of a chosen size.
import type { FleetHostEntry } from '../../src/demo/fleet.js';
import type { FakeMode } from '../../src/demo/fake-host.js';
import { replayFrom } from '../../src/demo/replay.js';

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const b62 = (n: number, width: number) => {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = B62[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s;
};

/** An `exim -bp` listing in the pre-4.97 id format: n messages, every 10th a frozen bounce. */
export function eximListing(n: number, seed = 0): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `1W${b62(seed, 4)}-${b62(i, 6)}-${b62(i % 3844, 2)}`;
    const bounce = i % 10 === 9;
    out.push(`${String((i % 59) + 1).padStart(3)}m  2.${i % 10}K ${id} ${bounce ? '<> *** frozen ***' : `<user${i % 7}@example.test>`}`);
    out.push(`          rcpt${i}@remote.test`, '');
  }
  return out.join('\n');
}

export function eximHost(name: string, queued: number, mode: FakeMode = 'normal', extra: Partial<FleetHostEntry> = {}): FleetHostEntry {
  return {
    name,
    mode,
    tools: [
      { name: 'ps', cases: { '*': { text: 'sshd\nexim4\ncron\n' } } },
      { name: 'exim4', cases: { '-bpc': { text: `${queued}\n` }, '-bp': { text: eximListing(queued, name.length) } } },
    ],
    ...extra,
  };
}

/**
 * A fleet replaying the lab's recordings: `hijacked` hosts (bob spamming; exim and postfix in turn),
 * `quiet` healthy ones (exim, postfix, sendmail in turn) and one dead host.
 */
export function recordedFleet(hijacked: string[], quiet: number): FleetHostEntry[] {
  return [
    ...hijacked.map((name, i) => ({
      name,
      mode: 'normal' as const,
      tools: [],
      replay: replayFrom(`test/fixtures/lab/${i % 2 ? 'bookworm-postfix' : 'bookworm-exim'}`),
    })),
    ...Array.from({ length: quiet }, (_, i) => ({
      name: `quiet${i + 1}.dc2.example.net`,
      mode: 'normal' as const,
      tools: [],
      replay: replayFrom(`test/fixtures/lab/${['bookworm-exim-quiet', 'bookworm-postfix-quiet', 'bookworm-sendmail-quiet'][i % 3]}`),
    })),
    { name: 'dead1.dc2.example.net', mode: 'dead' as const, tools: [] },
  ];
}
