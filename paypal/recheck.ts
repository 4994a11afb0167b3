// An operator's re-check of a stored PayPal message that was not verified (PayPal's postback or
// certificate URL unreachable, or a configuration mistake since fixed): verified again now by the
// same intake code, with today's configuration, and routed once as if it had just arrived. A
// message already routed changes nothing; one that no longer verifies is rejected again.
import type { Pool } from '../db/pool';
import { claimForRecheck, messageStanding, noteRechecked } from '../db/paypal-messages';
import type { PayPalIntakes } from './intakes';

export interface RecheckAnswer {
  /** routed / duplicate / rejected / retry: what the re-check did; unchanged: nothing was done. */
  outcome: 'routed' | 'duplicate' | 'rejected' | 'retry' | 'unchanged' | 'missing';
  messageId: number;
  /** A sentence for the operator. */
  message: string;
  workflowId?: string;
}

export async function recheckMessage(deps: { pool: Pool; intakes: Pick<PayPalIntakes, 'ipn' | 'webhook'> }, messageId: number, by: string): Promise<RecheckAnswer> {
  const claimed = await claimForRecheck(deps.pool, messageId);
  if (!claimed) return whyUnchanged(deps.pool, messageId);
  const stored = { messageId, raw: claimed.rawBody, headers: claimed.headers, receivedAt: claimed.receivedAt };
  const result = claimed.channel === 'ipn' ? await deps.intakes.ipn.recheck(stored) : await deps.intakes.webhook.recheck(stored);
  await noteRechecked(deps.pool, messageId, by);
  const said = result.detail ? ` (${result.detail})` : '';
  switch (result.outcome) {
    case 'routed':
      return { outcome: 'routed', messageId, workflowId: result.workflowId, message: `Message #${messageId} verified and routed to ${result.workflowId}${said}.` };
    case 'duplicate':
      return { outcome: 'duplicate', messageId, workflowId: result.workflowId, message: `Message #${messageId} verified, but PayPal's resend of it was routed already${said}; nothing more was done.` };
    case 'retry':
      return { outcome: 'retry', messageId, message: `Message #${messageId} could not be checked now${said}; nothing was routed: try the re-check again later.` };
    default:
      return { outcome: 'rejected', messageId, message: `Message #${messageId} is rejected again${said}; it was not routed.` };
  }
}

/** The sentence for a message the re-check did not claim. */
async function whyUnchanged(pool: Pool, messageId: number): Promise<RecheckAnswer> {
  const m = await messageStanding(pool, messageId);
  const unchanged = (message: string): RecheckAnswer => ({ outcome: 'unchanged', messageId, message, workflowId: m?.workflowId ?? undefined });
  if (!m) return { outcome: 'missing', messageId, message: `There is no PayPal message #${messageId}; the invoice page lists each message with its number.` };
  if (m.outcome === 'routed') return unchanged(`Message #${messageId} was already routed to ${m.workflowId ?? 'its invoice'}; nothing changed.`);
  if (m.outcome === 'duplicate') return unchanged(`Message #${messageId} is a copy of #${m.firstRoutedId ?? '?'}, which was already routed; nothing changed.`);
  if (m.channel !== 'ipn' && m.channel !== 'webhook') return unchanged(`Message #${messageId} is a ${m.channel} answer, which is asked again rather than re-checked; nothing changed.`);
  if (m.verification === 'verified') return unchanged(`Message #${messageId} was verified, and ${m.outcome}${m.outcomeDetail ? `: ${m.outcomeDetail}` : ''}; a re-check would not change that, so nothing changed.`);
  return unchanged(`Message #${messageId} is being worked on right now (${m.outcomeDetail ?? m.outcome}); look again in a few minutes.`);
}
