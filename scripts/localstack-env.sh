# Sourced by the scripts: LOCALSTACK_PORT (default 4566) selects one LocalStack, its endpoint
# and its state folder (.localstack, or .localstack-<port> for another port), so several can run
# side by side from one checkout (e.g. a benchmark's own).
export LOCALSTACK_PORT=${LOCALSTACK_PORT:-4566}
if [ "$LOCALSTACK_PORT" = 4566 ]; then LOCALSTACK_STATE=.localstack; else LOCALSTACK_STATE=.localstack-$LOCALSTACK_PORT; fi
export LOCALSTACK_STATE
export AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-http://127.0.0.1:$LOCALSTACK_PORT}
