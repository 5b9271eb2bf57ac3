import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { authPolicyFindings, ehlo } from '../../src/rules/auth-policy.js';
import { LocalTransport } from '../../src/transport/local.js';

const servers: Server[] = [];
/** A real SMTP listener on loopback that answers EHLO with the given extensions. */
async function smtp(ext: string[]): Promise<number> {
  const srv = createServer((s) => {
    s.write('220 mx.test ESMTP\r\n');
    s.on('data', (d) => {
      const cmd = d.toString();
      if (/^EHLO/i.test(cmd)) s.write(['250-mx.test', ...ext.map((e) => `250-${e}`), '250 HELP'].join('\r\n') + '\r\n');
      if (/QUIT/i.test(cmd)) s.end('221 bye\r\n');
    });
    s.on('error', () => {});
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as AddressInfo).port;
}
afterAll(() => servers.forEach((s) => s.close()));

describe('auth-policy', () => {
  const t = new LocalTransport();
  it('warns when the MX port offers AUTH and submission does not', async () => {
    const mx = await ehlo(t, await smtp(['PIPELINING', 'AUTH PLAIN LOGIN', 'SIZE 52428800']));
    const sub = await ehlo(t, await smtp(['PIPELINING']));
    expect(mx.auth).toEqual(['PLAIN', 'LOGIN']);
    expect(sub.auth).toEqual([]);
    const f = authPolicyFindings({ ...mx, port: 25 }, { ...sub, port: 587 });
    expect(f.map((x) => [x.severity, x.message.slice(0, 26)])).toEqual([
      ['warning', 'port 25 offers AUTH (PLAIN'],
      ['warning', 'port 587 does not offer AU'],
    ]);
  });
  it('is quiet for the recommended setup, and says so when 587 is closed', async () => {
    const good = authPolicyFindings(await ehlo(t, await smtp(['STARTTLS'])), await ehlo(t, await smtp(['AUTH=LOGIN PLAIN'])));
    expect(good).toEqual([]);
    const closed = await ehlo(t, 1); // nothing listens on port 1
    expect(closed.banner).toBeNull();
    expect(authPolicyFindings(await ehlo(t, await smtp([])), closed)[0]).toMatchObject({ severity: 'info' });
  });
});
