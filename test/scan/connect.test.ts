import { describe, expect, it } from 'vitest';
import { userKnownHostsFile } from '../../src/scan/connect.js';

describe('UserKnownHostsFile from ansible_ssh_common_args', () => {
  it.each([
    ['-o UserKnownHostsFile=/etc/ms/kh -o StrictHostKeyChecking=yes', '/etc/ms/kh'],
    ['-oUserKnownHostsFile=/a/b', '/a/b'],
    ['-o "UserKnownHostsFile=/x y"', undefined],
    ["-o UserKnownHostsFile='/quoted/path'", '/quoted/path'],
    ['-o ProxyJump=bastion', undefined],
  ])('%s → %s', (args, want) => {
    expect(userKnownHostsFile({ ansible_ssh_common_args: args })).toBe(want);
  });
  it('takes common args first: Ansible puts them before extra args and ssh keeps the first -o', () => {
    expect(
      userKnownHostsFile({
        ansible_ssh_extra_args: '-o UserKnownHostsFile=/second',
        ansible_ssh_common_args: '-o UserKnownHostsFile=/first',
      }),
    ).toBe('/first');
  });
});
