// OpenSSH's sshd announces all its host keys after login (`hostkeys-00@openssh.com`), and ssh2
// answers every announcement with a `hostkeys-prove-00` request: one more round trip per host,
// the server signing a proof with each of its host keys (RSA ones are costly) and the client
// verifying them — only to emit a 'hostkeys' event mailsweep never uses (host keys are checked
// against known_hosts during the handshake; known_hosts is never rewritten from this). OpenSSH's
// own client does not ask either when UserKnownHostsFile is set (UpdateHostKeys off).
import type { Client } from 'ssh2';

type GlobalRequest = (p: unknown, name: string, wantReply: boolean, data: unknown) => void;

interface WithProtocol {
  _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequest } };
}

/**
 * Call right after `client.connect()`: the announcement is ignored (it asks no reply), every other
 * global request still goes to ssh2. Returns false when ssh2's internals are not as expected
 * (a newer ssh2): then nothing is changed and a test says so.
 */
export function ignoreHostKeyAnnouncements(client: Client): boolean {
  const handlers = (client as unknown as WithProtocol)._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (name === 'hostkeys-00@openssh.com' && !wantReply) return;
    original(p, name, wantReply, data);
  };
  return true;
}
