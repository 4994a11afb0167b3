// What a refund or a dispute does to a buyer's access, per package: the vocabulary the packages
// table, the admin's package form and the invoice workflow share. Pure: safe in workflow code.

/** keep_on_partial: a partial refund keeps access (the total refunded revokes); revoke_on_any: any refund revokes. */
export const refundPolicies = ['keep_on_partial', 'revoke_on_any'] as const;
export type RefundPolicy = (typeof refundPolicies)[number];

/** suspend: downloads stop while a dispute is open; keep: they go on until the buyer wins. */
export const disputePolicies = ['suspend', 'keep'] as const;
export type DisputePolicy = (typeof disputePolicies)[number];

export const defaultRefundPolicy: RefundPolicy = 'keep_on_partial';
export const defaultDisputePolicy: DisputePolicy = 'suspend';

/** Where an invoice's dispute stands: open, or closed in whose favour. */
export const disputeStates = ['open', 'seller', 'buyer', 'other'] as const;
export type DisputeState = (typeof disputeStates)[number];

/** An invoice of several packages takes the strictest of their policies. */
export function strictestPolicies(packages: { refundPolicy?: RefundPolicy; disputePolicy?: DisputePolicy }[]): { refundPolicy: RefundPolicy; disputePolicy: DisputePolicy } {
  return {
    refundPolicy: packages.some((p) => p.refundPolicy === 'revoke_on_any') ? 'revoke_on_any' : defaultRefundPolicy,
    disputePolicy: packages.length > 0 && packages.every((p) => p.disputePolicy === 'keep') ? 'keep' : defaultDisputePolicy,
  };
}
