// The floor workflow's activities: they do nothing but answer, except that sendKeys (where the
// invoice e-mails the keys) tells the benchmark which purchase has been "delivered" and when.
export function floorActivities(delivered: (txnId: string) => void) {
  return {
    loadInvoice: async (_input: { txnId: string }) => ({ keyTtlSeconds: 3 * 86400 }),
    ensureAccount: async (_input: { email: string }) => ({ accountId: 1 }),
    recordInvoice: async (_input: { txnId: string; accountId: number }) => ({ invoiceId: 1, number: 'KS-000001' }),
    checkPayment: async (_input: { invoiceId: number }) => ({ problems: [] as string[] }),
    setInvoiceStatus: async (_input: { invoiceId: number; status: string }) => undefined,
    sendKeys: async (input: { invoiceId: number; txnId: string }) => {
      delivered(input.txnId);
      return { keyCount: 1, sent: true };
    },
  };
}

export type FloorActivities = ReturnType<typeof floorActivities>;
