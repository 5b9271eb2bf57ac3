// Jump hosts: mailsweep_jump "user@host:port", or what ssh would do with ansible_ssh_common_args / _extra_args.

import type { JumpHost } from './types.js';

type Bad = (message: string) => never;

/** "user@host:port", "host", "[2001:db8::1]:2222", "ssh://user@host:port". */
export function parseJump(spec: string, defaultUser: string, bad: Bad): JumpHost {
  const m = /^(?:([^@\s]+)@)?(\[[^\]\s]+\]|[^\s:@[\]]+)(?::(\d+))?$/.exec(spec.trim().replace(/^ssh:\/\//, ''));
  if (!m?.[2]) return bad(`expected "user@host:port", got ${JSON.stringify(spec)}`);
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return bad(`jump host port must be 1-65535, got ${m[3]}`);
  return { host: m[2].replace(/^\[|\]$/g, ''), port, user: m[1] ?? defaultUser };
}

/** The jump host ssh would use with these arguments; undefined when there is none. */
export function jumpFromSshArgs(args: string, defaultUser: string, bad: Bad): JumpHost | undefined {
  const argv = shellSplit(args, bad);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    let opt: string | undefined;
    if (a === '-J') return proxyJump(argv[++i] ?? '');
    if (a.startsWith('-J')) return proxyJump(a.slice(2));
    if (a === '-o') opt = argv[++i];
    else if (a.startsWith('-o')) opt = a.slice(2);
    if (opt === undefined) continue;
    const m = /^\s*(\w+)\s*(?:=|\s)\s*(.*)$/s.exec(opt);
    const key = m?.[1]?.toLowerCase();
    if (key === 'proxyjump') return proxyJump(m?.[2] ?? '');
    if (key === 'proxycommand') return proxyCommand(m?.[2] ?? '');
  }
  return undefined;

  function proxyJump(value: string): JumpHost | undefined {
    if (value.trim().toLowerCase() === 'none') return undefined;
    if (value.includes(',')) bad(`several jump hosts (ProxyJump ${value}) are not supported; set mailsweep_jump to one`);
    return parseJump(value, defaultUser, bad);
  }

  // Only the classic bastion form "ssh [opts] -W %h:%p [user@]bastion" can be expressed as a jump host.
  function proxyCommand(value: string): JumpHost | undefined {
    if (value.trim().toLowerCase() === 'none') return undefined;
    const cmd = shellSplit(value, bad);
    const unsupported = (): never =>
      bad(
        `ProxyCommand ${JSON.stringify(value)} is not supported (only "ssh -W %h:%p user@bastion"); set mailsweep_jump: user@host:port, or mailsweep_jump: none`,
      );
    if (!/(^|\/)ssh$/.test(cmd[0] ?? '') || !cmd.includes('-W')) return unsupported();
    let user: string | undefined;
    let port: string | undefined;
    let key: string | undefined;
    let dest: string | undefined;
    for (let i = 1; i < cmd.length; i++) {
      const a = cmd[i] ?? '';
      const flag = /^-([BbcDEeFIiJLlmOoPpQRSWw])(.*)$/.exec(a);
      if (flag) {
        const val = flag[2] || cmd[++i] || '';
        if (flag[1] === 'p') port = val;
        else if (flag[1] === 'l') user = val;
        else if (flag[1] === 'i') key = val;
        else if (flag[1] === 'J') return unsupported();
      } else if (!a.startsWith('-') && dest === undefined) dest = a;
      else if (!a.startsWith('-')) return unsupported(); // a remote command after the destination
    }
    if (!dest) return unsupported();
    const jump = parseJump(port ? `${dest.replace(/:\d+$/, '')}:${port}` : dest, user ?? defaultUser, bad);
    if (user) jump.user = user;
    if (key) jump.privateKeyFile = key;
    return jump;
  }
}

/** POSIX-shell word splitting (quotes and backslashes; no expansion). */
export function shellSplit(s: string, bad: Bad): string[] {
  const out: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (/\s/.test(c)) {
      if (word !== null) out.push(word);
      word = null;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) bad(`unbalanced ' in ${JSON.stringify(s)}`);
      word = (word ?? '') + s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === '\\' && /["\\$`]/.test(s[i + 1] ?? '')) i++;
        word += s[i];
      }
      if (i >= s.length) bad(`unbalanced " in ${JSON.stringify(s)}`);
    } else if (c === '\\') {
      word = (word ?? '') + (s[++i] ?? '');
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) out.push(word);
  return out;
}
