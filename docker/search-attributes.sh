#!/bin/sh
# Keyship's custom search attributes (workflows/search-attributes.ts), created once per namespace
# so operators find invoices in the Temporal Web UI. "Already exists" on a second run is fine.
set -u
for attribute in CustomerEmail=Keyword InvoiceNumber=Keyword ItemNumber=KeywordList PaymentStatus=Keyword InvoiceStatus=Keyword RefundedAmount=Double DisputeState=Keyword; do
  name="${attribute%%=*}"
  type="${attribute##*=}"
  if temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type" || exit 1
  fi
done
