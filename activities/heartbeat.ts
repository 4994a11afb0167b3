import { heartbeat, log } from '@temporalio/activity';

/**
 * Beats the activity's heartbeat (and logs a warning first, if given). A direct call outside an
 * activity (a test calling the function itself) has no context to report to, and does nothing.
 */
export function heartbeatSafely(warning?: string): void {
  try {
    if (warning) log.warn(warning);
    heartbeat();
  } catch {
    // Outside an activity context: nothing to report to.
  }
}
