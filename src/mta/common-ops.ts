// Re-exports of the shared incident-operation pieces, which now live in modules with one job each:
// purge-protocol.ts (markers, request checks, verdict parser), restart-fragments.ts,
// purge-stdin.ts (the request on stdin) and runner-pause.ts. src/ imports those directly; this
// barrel only keeps the tests' imports stable.

export * from './purge-protocol.js';
export * from './restart-fragments.js';
export * from './purge-stdin.js';
export * from './runner-pause.js';
