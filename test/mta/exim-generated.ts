// A generated attributed exim queue read (exim -bpc, -bp, the spool -H dump) with every case
// attribution meets: a hijacked account sending as forged senders to many recipients, its
// backscatter, legitimate users, frozen messages, a local login, delivered recipients, a message
// without a -H file, a -H seen twice, a listed id repeated, a -H of an unlisted message, a -H naming
// another id, a line ending in CR.

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const b62 = (n: number, w: number) => Array.from({ length: w }, (_, k) => B62[Math.floor(n / 62 ** (w - 1 - k)) % 62]).join('');
const eid = (i: number) => `1x${b62(i >> 8, 4)}-${b62(i, 11)}-${b62(i % 3844, 4)}`;

/** An attributed exim read with every case attribution meets (see the comments). */
export function generatedEximRead(n: number): string {
  const bp: string[] = [];
  const spool: string[] = [];
  const forged = (i: number) => `news${i % 37}@promo${i % 5}.invalid`;
  const envelope = (id: string, sender: string, lines: string[], rcpts: string[]) =>
    spool.push(
      `__MAILSWEEP_H__ /var/spool/exim4/input/${id}-H`,
      `|${id}-H`,
      '|Debian-exim 100 102',
      `|<${sender}>`,
      '|1795400000 0',
      ...lines.map((l) => `|${l}`),
      '|XX',
      `|${rcpts.length}`,
      ...rcpts.map((r) => `|${r}`),
    );
  for (let i = 0; i < n; i++) {
    const id = eid(i);
    const kind = i % 11;
    const bounce = kind === 3 || kind === 7;
    // bob (hijacked) sends as forged senders, to up to 24 recipients; alice and carol as themselves.
    const account = kind < 6 ? 'bob@example.test' : kind < 9 ? 'alice@example.test' : 'carol@shop.test';
    const sender = bounce ? '' : account === 'bob@example.test' ? forged(i) : account;
    // Bounces go back to bob's forged senders (his backscatter), to a local user, or to a mix.
    const rcpts = bounce
      ? i % 3 === 0
        ? [forged(i + 11)]
        : i % 3 === 1
          ? [forged(i + 22), forged(i + 33)]
          : [forged(i), 'postmaster@example.test']
      : Array.from({ length: 1 + (i % 24) }, (_, r) => `u${(i * 31 + r) % 997}@m${r % 4}.example.net`);
    const login = i % 97 === 5 ? ' (www-data)' : '';
    bp.push(
      `${String((i % 59) + 1).padStart(3)}m  ${1 + (i % 9)}.${i % 10}K ${id} <${sender}>${login}${i % 13 === 0 ? ' *** frozen ***' : ''}`,
    );
    for (const [k, r] of rcpts.entries()) bp.push(`        ${k === 1 && i % 5 === 0 ? 'D' : ' '} ${r}`);
    bp.push('');
    if (i % 101 === 50) continue; // no -H file: not attributed, named in a warning
    const auth = bounce
      ? ['-local', '-received_protocol local']
      : [`-host_address [198.51.100.${i % 250}]:${40000 + i}`, '-host_auth login', '-received_protocol esmtpa', `-auth_id ${account}`];
    if (!bounce && i % 4 === 0) auth.push(`-auth_sender ${account}`);
    envelope(id, sender, auth, rcpts);
    if (i % 211 === 7) envelope(id, sender, ['-host_address [203.0.113.1]:1', '-host_auth x', '-auth_id mallory@evil.test'], ['x@y']); // seen twice: first kept
  }
  // A listing id repeated (a hostile or racing listing), a -H of a message the listing does not show,
  // a -H whose first line names another id, and a line ending in CR (hex after "%").
  bp.push(`  1m  1.0K ${eid(3)} <dup@example.test>`, '          again@remote.test', '');
  envelope(
    eid(n + 5),
    'late@example.test',
    ['-host_address [192.0.2.5]:1', '-host_auth plain', '-auth_id late@example.test'],
    ['z@z.test'],
  );
  spool.push(`__MAILSWEEP_H__ /var/spool/exim4/input/${eid(n + 6)}-H`, `|${eid(n + 7)}-H`);
  spool.push(
    `__MAILSWEEP_H__ /var/spool/exim4/input/${eid(n + 8)}-H`,
    `|${eid(n + 8)}-H`,
    `%|${Buffer.from('Debian-exim 100 102\r').toString('hex')}`,
  );
  return [
    String(n + 1),
    '__MAILSWEEP_RC__ bpc 0',
    ...bp,
    '__MAILSWEEP_RC__ bp 0',
    'spool_directory = /var/spool/exim4',
    '__MAILSWEEP_RC__ spooldir 0',
    ...spool,
    '__MAILSWEEP_RC__ spool 0',
    '',
  ].join('\n');
}
