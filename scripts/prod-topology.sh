#!/usr/bin/env bash
# Runs what docker-compose.yml runs, without Docker, from the same configuration:
# PostgreSQL (Debian's packages), the schema set up by deploy/compose/setup-postgres.sh
# with the server's own SQL tool, Temporal server v1.32.1 built from its module with
# the compose file's environment and deploy/compose/dynamicconfig/docker.yaml, the
# namespace and vigil's search attributes, the Web UI server (ui-server v2.54.1 with
# its image's config/docker.yaml), `worker --cloud-only` and the lean worker.
#
#   scripts/prod-topology.sh up       # build, start everything, wait until healthy; prints the env to use
#   scripts/prod-topology.sh down     # stop everything `up` started (PROD_DIR names the run)
#   scripts/prod-topology.sh plan     # print each service's command line and environment, start nothing
#   scripts/prod-topology.sh build    # only build the binaries into $PROD_BIN
#
# Environment: PROD_DIR (state, logs, pids; default a new temporary directory),
# PROD_BIN (binaries; default $PROD_DIR/bin), PROD_PG_PORT, PROD_TEMPORAL_PORT,
# PROD_UI_PORT, PROD_CLOUD_PORT, PROD_METRICS_PORT (default: free ports; Temporal's
# internal ports are always free ones), POSTGRES_PASSWORD, VIGIL_CODEC_KEYS and
# TEMPORAL_CODEC_ENDPOINT as in the compose file. VIGIL_DATASTORE_ENDPOINT, when set,
# is passed to the worker (the compose file runs no Datastore emulator).
#
# What differs from the containers, and why: everything binds 127.0.0.1 on the
# chosen ports (the compose file's 0.0.0.0 inside a container and its published
# host ports); service names (postgresql, temporal, cloud) become 127.0.0.1; the
# volumes are directories under PROD_DIR; PostgreSQL is the Debian release's
# (15 on Debian 12) rather than the postgres:16 image; the namespace step runs
# scripts/prod-topology/setup-namespace, the same two steps as
# deploy/compose/setup-namespace.sh, because the Temporal CLI's module cannot be
# built from the Go module proxy. `go test ./deploy` checks the rest against
# docker-compose.yml (commands, environment, ports) with `plan`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cmd="${1:-}"

die() { echo "prod-topology: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# --- ports -----------------------------------------------------------------
used_ports=" "
# pick VAR [value]: VAR gets value, else a free port (nothing listens on it and
# it is not already taken by this run) in 10000-31999: below Linux's ephemeral
# range, and Temporal keeps membership ports in a smallint column (PostgreSQL
# refuses 32768 and up: the server exits with "unable to initialize membership
# heartbeats").
pick() {
	local var=$1 p=${2:-}
	if [ -z "$p" ]; then
		while :; do
			p=$(( 10000 + RANDOM % 22000 ))
			case "$used_ports" in *" $p "*) continue ;; esac
			if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
			break
		done
	fi
	used_ports+="$p "
	printf -v "$var" '%s' "$p"
}

# --- the services, as the compose file defines them ------------------------
# define_services sets, per service, NAME_cmd (argv) and NAME_env (KEY=VALUE),
# from the ports and directories chosen for this run.
define_services() {
	local pw="${POSTGRES_PASSWORD:-temporal}"
	local temporal="127.0.0.1:$temporal_port" cloud="http://127.0.0.1:$cloud_port"
	# x-temporal-db, with postgresql → 127.0.0.1 and its chosen port.
	local db=(DB=postgres12 "DB_PORT=$pg_port" POSTGRES_USER=temporal "POSTGRES_PWD=$pw" POSTGRES_SEEDS=127.0.0.1)

	postgresql_env=(POSTGRES_USER=temporal "POSTGRES_PASSWORD=$pw")

	temporal_setup_schema_cmd=(/bin/sh "$repo/deploy/compose/setup-postgres.sh")
	temporal_setup_schema_env=("${db[@]}" "TEMPORAL_SCHEMA_DIR=$schema_dir")

	temporal_cmd=(temporal-server start)
	temporal_env=("${db[@]}" BIND_ON_IP=127.0.0.1
		"DYNAMIC_CONFIG_FILE_PATH=$repo/deploy/compose/dynamicconfig/docker.yaml"
		"FRONTEND_GRPC_PORT=$temporal_port" "FRONTEND_HTTP_PORT=$frontend_http_port"
		"FRONTEND_MEMBERSHIP_PORT=$frontend_member_port" "HISTORY_GRPC_PORT=$history_port"
		"HISTORY_MEMBERSHIP_PORT=$history_member_port" "MATCHING_GRPC_PORT=$matching_port"
		"MATCHING_MEMBERSHIP_PORT=$matching_member_port" "WORKER_GRPC_PORT=$tworker_port"
		"WORKER_MEMBERSHIP_PORT=$tworker_member_port")

	temporal_setup_namespace_cmd=(setup-namespace)
	temporal_setup_namespace_env=("TEMPORAL_ADDRESS=$temporal" TEMPORAL_NAMESPACE=default)

	ui_cmd=(ui-server --root "$PROD_DIR/ui" --env docker start)
	ui_env=("TEMPORAL_ADDRESS=$temporal" "TEMPORAL_CORS_ORIGINS=http://localhost:$ui_port"
		"TEMPORAL_CODEC_ENDPOINT=${TEMPORAL_CODEC_ENDPOINT:-}" "TEMPORAL_UI_PORT=$ui_port")

	cloud_cmd=(worker --cloud-only --cloud-bind 127.0.0.1 --cloud-port "$cloud_port"
		--data-dir "$PROD_DIR/cloud-data" --log-format json)
	cloud_env=()

	worker_cmd=(worker --task-queue vigil --queue vigil-notifications --host vigil-worker
		--metrics-addr "127.0.0.1:$metrics_port" --log-format json --log-level info)
	worker_env=("AWS_ENDPOINT_URL=$cloud" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
		"TEMPORAL_ADDRESS=$temporal" TEMPORAL_NAMESPACE=default
		"VIGIL_SLACK_WEBHOOK_URL=$cloud/_slack/vigil" "VIGIL_CODEC_KEYS=${VIGIL_CODEC_KEYS:-}")
	if [ -n "${VIGIL_DATASTORE_ENDPOINT:-}" ]; then
		worker_env+=("VIGIL_DATASTORE_ENDPOINT=$VIGIL_DATASTORE_ENDPOINT")
	fi
}

services="postgresql temporal-setup-schema temporal temporal-setup-namespace ui cloud worker"

# plan prints "service<TAB>arg|env<TAB>value" lines and the published ports as
# "service<TAB>port<TAB>container=host" with the compose file's container ports.
plan() {
	local s v arr
	for s in $services; do
		arr="${s//-/_}_cmd[@]"
		for v in ${!arr+"${!arr}"}; do printf '%s\targ\t%s\n' "$s" "$v"; done
		arr="${s//-/_}_env[@]"
		for v in ${!arr+"${!arr}"}; do printf '%s\tenv\t%s\n' "$s" "$v"; done
	done
	printf 'temporal\tport\t7233=%s\n' "$temporal_port"
	printf 'ui\tport\t8080=%s\n' "$ui_port"
	printf 'cloud\tport\t4566=%s\n' "$cloud_port"
	printf 'worker\tport\t9090=%s\n' "$metrics_port"
}

# --- building ----------------------------------------------------------------
build() {
	mkdir -p "$PROD_BIN"
	local start; start=$(now_ms)
	echo "--- building into $PROD_BIN"
	(
		cd "$repo"
		# The image's binaries, as the Dockerfile builds them but with the
		# environment's CGO setting (the Dockerfile's CGO_ENABLED=0 would
		# compile every dependency again instead of reusing the tests' cache).
		go build -tags nodev -o "$PROD_BIN/worker" ./worker
		go build -o "$PROD_BIN/starter" ./starter
		go build -o "$PROD_BIN/setup-namespace" ./scripts/prod-topology/setup-namespace
		# The images' binaries, from the modules go.mod pins (tool directives).
		go build -o "$PROD_BIN/temporal-server" go.temporal.io/server/cmd/server
		go build -o "$PROD_BIN/temporal-sql-tool" go.temporal.io/server/cmd/tools/sql
		go build -o "$PROD_BIN/ui-server" github.com/temporalio/ui-server/v2/cmd/server
	)
	echo "built in $(( $(now_ms) - start )) ms"
}

# --- PostgreSQL ----------------------------------------------------------------
pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return; }
	done
	return 1
}

ensure_postgres() {
	pg_bin >/dev/null && return
	command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] ||
		die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql"
	echo "--- apt-get install postgresql"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
	pg_bin >/dev/null || die "PostgreSQL install did not provide initdb"
}

# as_pg runs a command as the postgres user when root (initdb refuses root).
as_pg() {
	if [ "$(id -u)" = 0 ]; then (cd "$PROD_DIR" && runuser -u postgres -- "$@"); else "$@"; fi
}

start_postgres() {
	local bin pw="${POSTGRES_PASSWORD:-temporal}" data="$PROD_DIR/postgres-data"
	bin=$(pg_bin)
	mkdir -p "$data"
	[ "$(id -u)" = 0 ] && chown postgres: "$data"
	if [ ! -f "$data/PG_VERSION" ]; then
		# What the postgres image does on an empty volume: the superuser
		# POSTGRES_USER with POSTGRES_PASSWORD and its database.
		printf '%s\n' "$pw" >"$PROD_DIR/pwfile"
		[ "$(id -u)" = 0 ] && chown postgres: "$PROD_DIR/pwfile"
		as_pg "$bin/initdb" -D "$data" -U temporal --pwfile="$PROD_DIR/pwfile" \
			--auth-local=trust --auth-host=scram-sha-256 -E UTF8 >"$PROD_DIR/logs/initdb.log" 2>&1 ||
			die "initdb failed: see $PROD_DIR/logs/initdb.log"
		rm -f "$PROD_DIR/pwfile"
		fresh_db=1
	fi
	touch "$PROD_DIR/logs/postgresql.log"
	[ "$(id -u)" = 0 ] && chown postgres: "$PROD_DIR/logs/postgresql.log"
	as_pg "$bin/pg_ctl" -D "$data" -l "$PROD_DIR/logs/postgresql.log" -w -t 60 \
		-o "-p $pg_port -k $data -c listen_addresses=127.0.0.1" start >/dev/null ||
		die "PostgreSQL did not start: see $PROD_DIR/logs/postgresql.log"
	if [ -n "${fresh_db:-}" ]; then
		as_pg "$bin/createdb" -h "$data" -p "$pg_port" -U temporal temporal
	fi
	# The compose health check: pg_isready -U temporal.
	as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -U temporal || die "PostgreSQL is not ready"
	echo "$pg_port" >"$PROD_DIR/postgres.port"
}

# --- processes -----------------------------------------------------------------
# run_once NAME RESTARTS: runs a one-shot service in the foreground with exactly
# its env, again up to RESTARTS times after a failure, 1 s apart (the compose
# file's restart: on-failure:RESTARTS; e.g. a namespace just created is not
# found by the next call until the server's namespace cache refreshes).
run_once() {
	local s=${1//-/_} arr i
	arr="${s}_cmd[@]"; local argv=("${!arr}")
	arr="${s}_env[@]"; local envs=(${!arr+"${!arr}"})
	for i in $(seq 0 "$2"); do
		[ "$i" = 0 ] || { echo "--- restart $i" >>"$PROD_DIR/logs/$1.log"; sleep 1; }
		env -i "PATH=$PROD_BIN:$PATH" "HOME=${HOME:-/root}" "${envs[@]}" "${argv[@]}" >>"$PROD_DIR/logs/$1.log" 2>&1 && return
	done
	die "$1 failed: see $PROD_DIR/logs/$1.log"
}

# start NAME DIR: starts a long-running service in DIR in its own session,
# with exactly its env, and records its pid.
start() {
	local s=${1//-/_} arr
	arr="${s}_cmd[@]"; local argv=("${!arr}")
	arr="${s}_env[@]"; local envs=(${!arr+"${!arr}"})
	mkdir -p "$2"
	(cd "$2" && exec setsid env -i "PATH=$PROD_BIN:$PATH" "HOME=${HOME:-/root}" "${envs[@]}" "${argv[@]}" \
		>>"$PROD_DIR/logs/$1.log" 2>&1 </dev/null) &
	echo "$!" >"$PROD_DIR/$1.pid"
}

# wait_until NAME SECONDS CMD...: polls CMD until it succeeds (the compose
# health check) or the time is up.
wait_until() {
	local name=$1 secs=$2; shift 2
	local deadline=$(( $(date +%s) + secs ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || die "$name not healthy after ${secs}s: see $PROD_DIR/logs/$name.log"
		if [ -f "$PROD_DIR/$name.pid" ] && ! kill -0 "$(cat "$PROD_DIR/$name.pid")" 2>/dev/null; then
			die "$name exited: see $PROD_DIR/logs/$name.log"
		fi
		sleep 0.2
	done
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
probe() { "$PROD_BIN/worker" --probe "$1"; }

phase() { printf '%-26s %6d ms\n' "$1" "$(( $(now_ms) - $2 ))" | tee -a "$PROD_DIR/timings"; }

up() {
	ensure_postgres
	[ -x "$PROD_BIN/worker" ] && [ -x "$PROD_BIN/temporal-server" ] && [ -z "${PROD_REBUILD:-}" ] || build
	mkdir -p "$PROD_DIR/logs"
	: >"$PROD_DIR/timings"
	local t0 t; t0=$(now_ms)
	t=$(now_ms); start_postgres; phase postgresql "$t"
	t=$(now_ms); run_once temporal-setup-schema 5; phase temporal-setup-schema "$t"
	t=$(now_ms); start temporal "$PROD_DIR/temporal"
	wait_until temporal 120 tcp_open "$temporal_port"; phase temporal "$t"
	t=$(now_ms); run_once temporal-setup-namespace 10; phase temporal-setup-namespace "$t"
	# The image's config/docker.yaml, plus the bind address it leaves to the
	# container (there: every interface).
	mkdir -p "$PROD_DIR/ui/config"
	{ cat "$(cd "$repo" && go list -m -f '{{.Dir}}' github.com/temporalio/ui-server/v2)/config/docker.yaml"
	  echo "host: 127.0.0.1"; } >"$PROD_DIR/ui/config/docker.yaml"
	t=$(now_ms); start ui "$PROD_DIR/ui"
	wait_until ui 60 probe "http://127.0.0.1:$ui_port/"; phase ui "$t"
	t=$(now_ms); start cloud "$PROD_DIR/cloud-data"
	wait_until cloud 60 probe "http://127.0.0.1:$cloud_port/_slack/messages"; phase cloud "$t"
	t=$(now_ms); start worker "$PROD_DIR/worker-data"
	wait_until worker 60 probe "http://127.0.0.1:$metrics_port/healthz"; phase worker "$t"
	phase "total (build excluded)" "$t0"
	cat >"$PROD_DIR/env" <<EOF
export TEMPORAL_ADDRESS=127.0.0.1:$temporal_port
export TEMPORAL_NAMESPACE=default
export VIGIL_UI_URL=http://127.0.0.1:$ui_port
export AWS_ENDPOINT_URL=http://127.0.0.1:$cloud_port
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export VIGIL_METRICS_URL=http://127.0.0.1:$metrics_port/metrics
export PATH=$PROD_BIN:\$PATH
EOF
	echo "--- up: . $PROD_DIR/env; starter doctor; scripts/prod-topology.sh down (PROD_DIR=$PROD_DIR)"
}

# stop NAME: SIGTERM, then SIGKILL after 30 s (the compose file's stop_grace_period).
stop() {
	local f="$PROD_DIR/$1.pid" pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -TERM "$pid" 2>/dev/null; then
		for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

down() {
	[ -d "$PROD_DIR" ] || die "PROD_DIR=$PROD_DIR does not exist"
	local s bin
	for s in worker cloud ui temporal; do stop "$s"; done
	if [ -f "$PROD_DIR/postgres-data/postmaster.pid" ]; then
		bin=$(pg_bin) && as_pg "$bin/pg_ctl" -D "$PROD_DIR/postgres-data" -m fast -w stop >/dev/null || true
	fi
	echo "--- down (state kept in $PROD_DIR)"
}

case "$cmd" in
up | plan | build) ;;
down) [ -n "${PROD_DIR:-}" ] || die "down needs PROD_DIR" ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
if [ -z "${PROD_DIR:-}" ]; then PROD_DIR=$(mktemp -d /tmp/vigil-prod.XXXXXX); fi
PROD_DIR=$(cd "$PROD_DIR" 2>/dev/null && pwd || { mkdir -p "$PROD_DIR" && cd "$PROD_DIR" && pwd; })
chmod 755 "$PROD_DIR" # the postgres user reaches its data directory through it
PROD_BIN="${PROD_BIN:-$PROD_DIR/bin}"
mkdir -p "$PROD_DIR/logs"

if [ -f "$PROD_DIR/ports" ]; then . "$PROD_DIR/ports"; fi
pick pg_port "${PROD_PG_PORT:-${pg_port:-}}"
pick temporal_port "${PROD_TEMPORAL_PORT:-${temporal_port:-}}"
pick ui_port "${PROD_UI_PORT:-${ui_port:-}}"
pick cloud_port "${PROD_CLOUD_PORT:-${cloud_port:-}}"
pick metrics_port "${PROD_METRICS_PORT:-${metrics_port:-}}"
for p in frontend_http_port frontend_member_port history_port history_member_port matching_port \
	matching_member_port tworker_port tworker_member_port; do pick "$p" "${!p:-}"; done
if [ "$cmd" = up ]; then
	for p in pg_port temporal_port ui_port cloud_port metrics_port frontend_http_port frontend_member_port \
		history_port history_member_port matching_port matching_member_port tworker_port tworker_member_port; do
		echo "$p=${!p}"
	done >"$PROD_DIR/ports"
fi
schema_dir="$(cd "$repo" && go list -m -f '{{.Dir}}' go.temporal.io/server)/schema"
define_services

case "$cmd" in
up) up ;;
down) down ;;
plan) plan ;;
build) build ;;
esac
