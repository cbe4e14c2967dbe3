import { errorText, t } from './i18n/index.svelte';
import type { Action } from './proto/Action';
import type { ErrorCode } from './proto/ErrorCode';
import type { Phase } from './proto/Phase';

/**
 * Why an action is not possible now, in words, from the code the board's `gates` carry (the
 * code the server would refuse the command with). The rule itself is the server's.
 */
export function gateReason(action: Action, code: ErrorCode, phase: Phase | null): string {
  if (code === 'board_locked') return t('gates.locked');
  if (code === 'phase_forbids' && phase !== null) return t(`gates.${action}`, { inPhase: t(`phaseIn.${phase}`) });
  if (code === 'forbidden' && action === 'group') return t('gates.groupFacilitators');
  return errorText({ code, message: t('errors.forbidden') });
}

/**
 * The id of the board notice that says why `action` is not possible, for `aria-describedby`
 * (a locked board has one notice for every action).
 */
export function gateReasonId(action: Action, code: ErrorCode): string {
  return code === 'board_locked' ? 'gate-why-locked' : `gate-why-${action}`;
}
