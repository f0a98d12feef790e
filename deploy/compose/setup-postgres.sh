#!/bin/sh
# One-shot schema setup for the Temporal server (runs in temporalio/admin-tools).
# Idempotent: run again on every `docker compose up`. scripts/prod-topology.sh
# runs it outside the image, with TEMPORAL_SCHEMA_DIR set to the server module's schema/.
set -eu
: "${POSTGRES_SEEDS:=postgresql}" "${POSTGRES_USER:=temporal}" "${DB_PORT:=5432}"
export SQL_PASSWORD="${POSTGRES_PWD:?}"
schema="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12"
tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" "$@"; }
for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  tool --db "$db" create 2>/dev/null || echo "database $db exists"
  tool --db "$db" setup-schema -v 0.0 2>/dev/null || echo "schema of $db already set up"
  tool --db "$db" update-schema -d "$schema/$dir/versioned"
done
echo "Temporal schema ready"
