#!/bin/sh
# Temporal's databases and schema on Postgres, with the admin-tools image's temporal-sql-tool and the
# schema it ships (/etc/temporal/schema): what production does instead of the auto-setup image.
# Every step is idempotent (an existing database is kept; update-schema applies only what is
# missing), so the one-shot service runs on every `docker compose up` and upgrades the schema
# when the images move to a newer Temporal release.
set -eu
schema=/etc/temporal/schema/postgresql/v12
for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
  database="${pair%%:*}"
  folder="${pair##*:}"
  tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" --db "$database" "$@"; }
  tool create-database
  tool setup-schema -v 0.0
  tool update-schema -d "$schema/$folder/versioned"
  echo "temporal schema: $database is up to date"
done
