// Reporter registry: --format NAME picks one.
import type { ScanReport } from '../scan/types.js';
import { renderMarkdown } from './markdown.js';
import { renderNagios } from './nagios.js';
import { renderTable } from './table.js';

export interface RenderOptions {
  color?: boolean;
}

export const FORMATS: Record<'table' | 'json' | 'markdown' | 'nagios', (r: ScanReport, o?: RenderOptions) => string> = {
  table: renderTable,
  json: (r: ScanReport) => JSON.stringify(r, null, 2) + '\n',
  markdown: renderMarkdown,
  nagios: renderNagios,
};

export type FormatName = keyof typeof FORMATS;
