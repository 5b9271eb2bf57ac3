// The adapter registry: one adapter per MTA, looked up by name.

import { ConfigError } from '../errors.js';
import { exim } from './exim/adapter.js';
import { postfix } from './postfix/adapter.js';
import { qmail } from './qmail/adapter.js';
import { sendmail } from './sendmail/adapter.js';
import { MTA_NAMES, type MtaAdapter, type MtaName } from './types.js';

export const ADAPTERS: Record<MtaName, MtaAdapter> = { sendmail, exim, postfix, qmail };

export function getAdapter(name: string): MtaAdapter {
  if (!(MTA_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown MTA "${name}" (expected one of ${MTA_NAMES.join(', ')})`);
  }
  return ADAPTERS[name as MtaName];
}
