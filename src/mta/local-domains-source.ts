// What an MTA's configuration says its own domains are: the shapes each MTA's local-domains.ts
// fills (round trip 1) and the shared reader completes (round trip 2, src/mta/local-domains.ts).
import type { MtaHost } from './host.js';
import type { Sh } from '../transport/quote.js';

export interface LocalDomains {
  /** Exact domains, lower-case. */
  exact: Set<string>;
  /** Suffixes (".example.com" for "*.example.com" / postfix ".example.com"), lower-case. */
  suffixes: string[];
  /** List items that cannot be enumerated: while any is present, no domain is proven foreign. */
  unknown: string[];
  /** Where the domains came from, for the report. */
  sources: string[];
}

/** A list item that names more data to fetch in round trip 2. */
export interface ListFetch {
  /** 'keys': a lookup file (first word per line); 'items': a file of list items; 'dir': entries; 'postmap': a postfix table. */
  how: 'keys' | 'items' | 'dir' | 'postmap';
  path: string;
  /** postfix lists treat "example.com" as also covering subdomains for some parameters. */
  subdomains?: boolean;
}

export interface ConfiguredLists {
  ld: LocalDomains;
  fetch: ListFetch[];
}

/** How one MTA's configuration names its local domains: its part of round trip 1. */
export interface LocalDomainsSource {
  name: string;
  /** Shell lines printing the configuration, each part after a `${SECTION} <name>` line. */
  commandLines(ctx: MtaHost): Sh[];
  /** Read one section into `out`; false when the section is not this MTA's (a file section, say). */
  parseSection(section: { name: string; lines: string[] }, out: ConfiguredLists): boolean;
}
