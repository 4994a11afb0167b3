#!/bin/sh
# Once Temporal is healthy: the namespace (auto-setup's DEFAULT_NAMESPACE did this before) and
# Keyship's custom search attributes (workflows/search-attributes.ts), so operators find invoices
# in the Temporal Web UI. Both are kept when they exist, so a second run changes nothing.
set -u
if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $TEMPORAL_NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --retention "${NAMESPACE_RETENTION:-30d}" || exit 1
  # The frontend's namespace cache picks a new namespace up within seconds.
  tries=0
  until temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || { echo "namespace $TEMPORAL_NAMESPACE was not usable 60 s after its creation" >&2; exit 1; }
    sleep 2
  done
fi
for attribute in CustomerEmail=Keyword InvoiceNumber=Keyword ItemNumber=KeywordList PaymentStatus=Keyword InvoiceStatus=Keyword RefundedAmount=Double DisputeState=Keyword; do
  name="${attribute%%=*}"
  type="${attribute##*=}"
  if temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type" || exit 1
  fi
done
