// The log side shared by every MTA: events, the streaming line runner, clocks and the aggregator.
// Each MTA's own parser lives with its adapter (src/mta/<mta>/logs.ts).

export { AuthAggregator } from './aggregate.js';
export type { AggregateSummary, AggregatorOptions, FailureStats, UserStats } from './aggregate.js';
export { runParser } from './line.js';
export { isoToEpoch, SyslogClock, tai64nToEpoch } from './time.js';
export * from './types.js';
