// The sample subject shown as evidence: found in each MTA's header view, folded lines joined, RFC 2047
// encoded words decoded, and left as they were when they cannot be decoded.
import { describe, expect, it } from 'vitest';
import { decodeWords, subjectOf } from '../../src/mta/subject.js';

describe('subjectOf', () => {
  it('exim -Mvh lines (size and flag prefix), folded', () => {
    const dump = [
      '1WDQrg-0001Wf-1W-H',
      '045  From: "Prize" <promo@lottery-win.invalid>',
      '047  Subject: You have won!',
      '        Claim 512 now',
      '031  To: user1@contoso.example',
    ].join('\n');
    expect(subjectOf(dump)).toBe('You have won! Claim 512 now');
  });
  it('postcat -h and sendmail qf headers; none → null', () => {
    expect(subjectOf('From: a@b.test\nSubject: Re: project update 3 from alice\n')).toBe('Re: project update 3 from alice');
    expect(subjectOf('From: a@b.test\n')).toBeNull();
  });
  it('decodes base64 and quoted-printable words, joins adjacent ones, keeps what it cannot decode', () => {
    expect(decodeWords('=?UTF-8?B?R2V3aW5uc3BpZWwgZsO8ciBTaWUh?=')).toBe('Gewinnspiel für Sie!');
    expect(decodeWords('=?iso-8859-1?Q?Gr=FC=DFe_aus?= =?UTF-8?Q?_K=C3=B6ln?=')).toBe('Grüße aus Köln');
    expect(decodeWords('=?x-unknown?B?AAAA?= tail')).toBe('=?x-unknown?B?AAAA?= tail');
    expect(decodeWords('=?UTF-8?B?/w==?=')).toBe('=?UTF-8?B?/w==?=');
  });
});
