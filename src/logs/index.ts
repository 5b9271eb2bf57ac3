// The log parser registry: one streaming parser per MTA, looked up by name.

import type { MtaName } from '../mta/types.js';
import { createEximLogParser, parseEximLog } from './exim.js';
import { createPostfixLogParser, parsePostfixLog } from './postfix.js';
import { createQmailLogParser, parseQmailLog } from './qmail.js';
import { createSendmailLogParser, parseSendmailLog } from './sendmail.js';
import type { LogParserEntry } from './types.js';

export const LOG_PARSERS: Record<MtaName, LogParserEntry> = {
  sendmail: { mta: 'sendmail', create: createSendmailLogParser, parse: parseSendmailLog },
  exim: { mta: 'exim', create: createEximLogParser, parse: parseEximLog },
  postfix: { mta: 'postfix', create: createPostfixLogParser, parse: parsePostfixLog },
  qmail: { mta: 'qmail', create: createQmailLogParser, parse: parseQmailLog },
};

export { AuthAggregator } from './aggregate.js';
export type { AggregateSummary, AggregatorOptions, FailureStats, UserStats } from './aggregate.js';
export { runParser } from './line.js';
export { isoToEpoch, SyslogClock, tai64nToEpoch } from './time.js';
export * from './types.js';
