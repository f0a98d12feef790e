#!/bin/sh
# One-shot: the namespace and vigil's search attributes (runs in
# temporalio/admin-tools once the server is healthy). Idempotent.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
temporal operator namespace describe -n "$ns" >/dev/null 2>&1 ||
  temporal operator namespace create -n "$ns" --retention "${RETENTION:-72h}"
for sa in VigilFlow VigilTarget VigilArchiveID VigilInternal; do
  if temporal operator search-attribute list -n "$ns" | grep -qw "$sa"; then
    echo "search attribute $sa exists"
  else
    temporal operator search-attribute create -n "$ns" --name "$sa" --type Keyword
  fi
done
echo "namespace $ns ready with VigilFlow, VigilTarget, VigilArchiveID, VigilInternal"
