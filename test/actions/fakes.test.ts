// The fakes themselves behave as the documents say (checked with raw requests, not our clients).
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWhm } from '../fakes/fake-whm.js';
import { FakeWhmcs } from '../fakes/fake-whmcs.js';

function request(
  url: string,
  ca: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = https.request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    if (opts.body) r.write(opts.body);
    r.end();
  });
}

let whm: FakeWhm;
let whmcs: FakeWhmcs;
beforeAll(async () => {
  whm = await FakeWhm.start({ token: 'T0KEN', domains: { 'example.com': 'exampleco' }, mailboxes: { exampleco: ['info@example.com'] } });
  whmcs = await FakeWhmcs.start({ identifier: 'id', secret: 'sec' });
});
afterAll(async () => {
  await whm.close();
  await whmcs.close();
});

describe('fake WHM', () => {
  const auth = { Authorization: 'whm root:T0KEN' };

  it('answers the documented getdomainowner shape', async () => {
    const r = await request(`${whm.url}/json-api/getdomainowner?api.version=1&domain=example.com`, whm.cert, { headers: auth });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({
      data: { user: 'exampleco' },
      metadata: { command: 'getdomainowner', reason: 'OK', result: 1, version: 1 },
    });
  });

  it('without api.version=1 there is no API 1 metadata', async () => {
    const r = await request(`${whm.url}/json-api/getdomainowner?domain=example.com`, whm.cert, { headers: auth });
    expect(JSON.parse(r.body).metadata).toBeUndefined();
    expect(whm.calls.at(-1)?.apiVersion).toBeNull();
  });

  it('rejects a missing or wrong Authorization header with 403 and never records it', async () => {
    expect((await request(`${whm.url}/json-api/getdomainowner?api.version=1&domain=x`, whm.cert)).status).toBe(403);
    const r = await request(`${whm.url}/json-api/getdomainowner?api.version=1&domain=x`, whm.cert, {
      headers: { Authorization: 'whm root:WRONG' },
    });
    expect(r.status).toBe(403);
    expect(JSON.stringify(whm.calls)).not.toMatch(/T0KEN|WRONG/);
  });

  it('wraps UAPI results in data.uapi and reports UAPI failures as HTTP 200 + status 0', async () => {
    const q = 'api.version=1&cpanel.user=exampleco&cpanel.module=Email&cpanel.function=suspend_login&email=nobody@example.com';
    const r = await request(`${whm.url}/json-api/uapi_cpanel?${q}`, whm.cert, { headers: auth });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body.metadata.result).toBe(1);
    expect(body.data.uapi).toMatchObject({ status: 0, errors: ['The account “nobody@example.com” does not exist.'], data: null });
  });
});

describe('fake WHMCS', () => {
  it('answers {"result":"error","message":…} for bad credentials and unknown actions', async () => {
    const post = (body: string) =>
      request(whmcs.url, whmcs.cert, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    expect(JSON.parse((await post('action=GetClientsDetails&identifier=id&secret=bad&responsetype=json')).body)).toEqual({
      result: 'error',
      message: 'Authentication Failed',
    });
    // The documented legacy field names username/password also carry identifier/secret.
    expect(JSON.parse((await post('action=Nope&username=id&password=sec&responsetype=json')).body)).toEqual({
      result: 'error',
      message: 'Command Not Found',
    });
    expect(JSON.stringify(whmcs.calls)).not.toMatch(/"sec"|"bad"/);
  });

  it('rejects customvars that are not base64 PHP serialize()', async () => {
    const body = new URLSearchParams({
      action: 'SendEmail',
      identifier: 'id',
      secret: 'sec',
      responsetype: 'json',
      id: '1',
      customtype: 'general',
      customsubject: 's',
      custommessage: 'm',
      customvars: Buffer.from('a:1:{s:5:"too-short";i:1;}').toString('base64'),
    }).toString();
    const r = await request(whmcs.url, whmcs.cert, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(JSON.parse(r.body)).toEqual({ result: 'error', message: 'The custom variables you provided are invalid.' });
  });
});
