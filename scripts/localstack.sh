#!/usr/bin/env bash
# LocalStack as a host process (no container engine): up | down | status.
# State, logs and the PID file live under .localstack/ (git-ignored). `down` stops exactly the
# process recorded in the PID file, never by name; a LocalStack we did not start is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/localstack-env.sh
STATE_DIR=${LOCALSTACK_STATE_DIR:-$PWD/$LOCALSTACK_STATE}
PID_FILE=$STATE_DIR/localstack.pid
LOG_FILE=$STATE_DIR/logs/localstack.log
PORT=$LOCALSTACK_PORT
ENDPOINT=http://127.0.0.1:$PORT
HEALTH=$ENDPOINT/_localstack/health
START_TIMEOUT=${LOCALSTACK_START_TIMEOUT:-120}

# Running and not a zombie (an orphan's exit is reaped by an init that may never do it).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
healthy() { curl -fsS --max-time 2 "$HEALTH" >/dev/null 2>&1; }
our_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid; pid=$(cat "$PID_FILE")
  alive "$pid" && echo "$pid"
}

up() {
  if healthy; then
    if pid=$(our_pid); then echo "LocalStack already running (pid $pid), reusing it."
    else echo "A LocalStack is already answering on $ENDPOINT; reusing it (not started by us, will not stop it)."; fi
    return 0
  fi
  if pid=$(our_pid); then
    echo "LocalStack (pid $pid) is starting or hung; waiting for it."
  else
    mkdir -p "$STATE_DIR/logs/lambda" "$STATE_DIR/volume" "$STATE_DIR/filesystem"
    : >"$LOG_FILE"
    # GATEWAY_SERVER=hypercorn: the default (twisted) server ignores the 127.0.0.1 in
    # GATEWAY_LISTEN and listens on every interface.
    env GATEWAY_LISTEN=127.0.0.1:$PORT \
        GATEWAY_SERVER=hypercorn \
        LOCALSTACK_VOLUME_DIR="$STATE_DIR/volume" \
        FILESYSTEM_ROOT="$STATE_DIR/filesystem" \
        LAMBDA_RUNTIME_EXECUTOR=process \
        LAMBDA_PROCESS_RUNTIME_DEPS="$PWD/.build/lambda-runtime" \
        LAMBDA_PROCESS_LOG_DIR="$STATE_DIR/logs/lambda" \
        DNS_ADDRESS=0 \
        SKIP_SSL_CERT_DOWNLOAD=1 \
        DISABLE_EVENTS=1 \
        SQS_ENDPOINT_STRATEGY=path \
      setsid .venv-localstack/bin/python -m localstack.runtime.main >>"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    echo "Starting LocalStack (pid $!), log: ${LOG_FILE#"$PWD"/}"
  fi
  local started=$SECONDS
  until healthy; do
    if ! our_pid >/dev/null; then
      echo "error: LocalStack exited during start-up. Last lines of ${LOG_FILE#"$PWD"/}:" >&2
      tail -n 40 "$LOG_FILE" >&2; rm -f "$PID_FILE"; return 1
    fi
    if (( SECONDS - started > START_TIMEOUT )); then
      echo "error: LocalStack not healthy after ${START_TIMEOUT}s. Last lines of ${LOG_FILE#"$PWD"/}:" >&2
      tail -n 40 "$LOG_FILE" >&2; down; return 1
    fi
    sleep 0.5
  done
  echo "LocalStack ready on $ENDPOINT after $(( SECONDS - started ))s."
}

down() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PID_FILE"; echo "No LocalStack started by this project is running."; return 0
  fi
  kill -TERM "$pid"
  # Its shutdown can wait up to a minute on in-flight internal calls; Lambda processes end either
  # way (the executor stops them, or they see LocalStack's death on their lifeline pipe).
  for _ in $(seq 1 40); do alive "$pid" || break; sleep 0.5; done
  if alive "$pid"; then
    echo "LocalStack (pid $pid) did not stop in 20s; killing it."; kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  echo "LocalStack (pid $pid) stopped."
}

status() {
  if healthy; then echo "up"; else echo "down"; return 1; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
