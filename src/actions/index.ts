// Action registry: the names playbook steps use.
import type { Action, StepContext } from '../playbook/types.js';
import { contain } from './contain.js';
import { identify } from './identify.js';
import { notify, notifyPreflight } from './notify.js';
import { purge } from './purge.js';
import { release } from './release.js';
import { restartMta } from './restart-mta.js';
import { resetPassword, resetPreflight } from './reset-password.js';
import { summary } from './summary.js';

export const ACTIONS: Record<string, Action> = {
  identify,
  'reset-password': resetPassword,
  'restart-mta': restartMta,
  purge,
  notify,
  summary,
  contain,
  release,
} as Record<string, Action>;

/** Checks run before the first step: an integration that is not configured stops an unattended run early. */
export const PREFLIGHT: Record<string, (ctx: Pick<StepContext, 'host'>) => string | null> = {
  'reset-password': resetPreflight,
  notify: notifyPreflight,
};

export const ACTION_NAMES = [...Object.keys(ACTIONS), 'repeat'];
