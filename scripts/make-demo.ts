// Build fixtures/demo/ (the `mailsweep demo` fleet) from recordings of the real-server lab.
// Usage: npx tsx scripts/make-demo.ts   (after scripts/record-lab.ts)
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPLAY_KEYS } from '../src/demo/replay.js';

const OUT = 'fixtures/demo';
/** Demo host → recording (test/fixtures/lab/<dir>): every host replays a real server's output. */
const HOSTS: { name: string; group: string; from?: string; mode?: string; vars?: Record<string, unknown> }[] = [
  { name: 'mx1.dc1.example.net', group: 'dc1', from: 'bookworm-exim' },
  { name: 'mx2.dc1.example.net', group: 'dc1', from: 'bookworm-postfix-quiet' },
  { name: 'mx3.dc2.example.net', group: 'dc2', from: 'trixie-exim-quiet' },
  { name: 'mx4.dc2.example.net', group: 'dc2', from: 'bookworm-sendmail-quiet' },
  { name: 'mx5.dc2.example.net', group: 'dc2', mode: 'dead' },
];

await rm(OUT, { recursive: true, force: true });
const fleet = [];
for (const h of HOSTS) {
  if (!h.from) {
    fleet.push({ name: h.name, group: h.group, mode: h.mode, tools: [] });
    continue;
  }
  const src = join('test/fixtures/lab', h.from);
  if (!existsSync(join(src, 'queue.out'))) {
    console.error(`skipping ${h.name}: no recording in ${src}`);
    continue;
  }
  await mkdir(join(OUT, h.name), { recursive: true });
  for (const f of ['detect.out', 'queue.out', 'log.out', 'scan-meta.json']) await copyFile(join(src, f), join(OUT, h.name, f));
  const ld = existsSync(join(src, 'local-domains.out'));
  if (ld) await copyFile(join(src, 'local-domains.out'), join(OUT, h.name, 'local-domains.out'));
  fleet.push({
    name: h.name,
    group: h.group,
    mode: 'normal',
    tools: [],
    vars: h.vars,
    replay: [
      { match: REPLAY_KEYS.detect, file: `${h.name}/detect.out` },
      { match: REPLAY_KEYS.log, file: `${h.name}/log.out` },
      ...(ld ? [{ match: REPLAY_KEYS.localDomains, file: `${h.name}/local-domains.out` }] : []),
      { match: REPLAY_KEYS.queue, file: `${h.name}/queue.out` },
    ],
  });
}
await writeFile(join(OUT, 'fleet.json'), JSON.stringify(fleet, null, 2) + '\n');
await writeFile(
  join(OUT, 'README.md'),
  '# Demo fleet\n\nWritten by `scripts/make-demo.ts` from recordings of the real-server lab (`test/lab`, `scripts/record-lab.ts`):\n' +
    "each demo host replays the exact output a real exim, postfix or sendmail server gave to mailsweep's commands.\n" +
    '`*-quiet` recordings come from the same lab seeded with legitimate mail only (`MAILSWEEP_LAB_SEED=quiet test/lab/lab up`).\n',
);
console.log(`wrote ${fleet.length} hosts to ${OUT}/fleet.json`);
