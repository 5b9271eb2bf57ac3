// Reporter registry: --format NAME picks one.
import type { ScanReport } from '../scan/types.js';
import { jsonText } from '../text/json.js';
import { renderMarkdown } from './markdown.js';
import { renderNagios } from './nagios.js';
import type { PerfdataMode } from './nagios-perfdata.js';
import { renderTable } from './table.js';

export interface RenderOptions {
  color?: boolean;
  /** nagios: per-host perfdata (default the 10 worst hosts). */
  perfdata?: PerfdataMode;
}

export const FORMATS: Record<'table' | 'json' | 'markdown' | 'nagios', (r: ScanReport, o?: RenderOptions) => string> = {
  table: renderTable,
  // Data: every byte of server text kept, C1/bidi/invisible characters as \u escapes (src/text/json.ts).
  json: (r: ScanReport) => jsonText(r, 2) + '\n',
  markdown: renderMarkdown,
  nagios: renderNagios,
};

export type FormatName = keyof typeof FORMATS;
