#!/usr/bin/env bash
# Deploys the SecurityAgent stack to LocalStack: CDK bootstrap once, then deploy with no prompts.
# Extra arguments go to `cdk deploy` (the tests add `-c faultInjection=true`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/localstack-env.sh
logs=$LOCALSTACK_STATE/logs
mkdir -p "$logs"
started=$SECONDS
if ! .venv/bin/python -m scripts.localstack_client stack-exists CDKToolkit; then
  echo "CDK bootstrap of the LocalStack account (once)"
  scripts/cdk.sh bootstrap --quiet aws://000000000000/us-east-1 >$logs/cdk-bootstrap.log 2>&1 \
    || { tail -n 30 $logs/cdk-bootstrap.log >&2; exit 1; }
fi
echo "Deploying the SecurityAgent stack to LocalStack"
scripts/cdk.sh deploy SecurityAgent --require-approval never --progress events "$@" \
  --outputs-file $LOCALSTACK_STATE/stack-outputs.json >$logs/cdk-deploy.log 2>&1 \
  || { echo "error: deploy failed; last lines of $logs/cdk-deploy.log:" >&2; tail -n 40 $logs/cdk-deploy.log >&2; exit 1; }
if ! .venv/bin/python -m scripts.localstack_client api-stage-deployed; then
  # An emulator bug, not AWS behaviour: when the API's routes change, LocalStack deletes the stage
  # while replacing its deployment. A clean re-creation of the stack restores it.
  echo "LocalStack dropped the API stage on this update (routes changed); re-creating the stack"
  scripts/cdk.sh destroy SecurityAgent --force >>"$logs/cdk-deploy.log" 2>&1
  scripts/cdk.sh deploy SecurityAgent --require-approval never --progress events "$@" \
    --outputs-file "$LOCALSTACK_STATE/stack-outputs.json" >>"$logs/cdk-deploy.log" 2>&1 \
    || { echo "error: deploy failed; last lines of $logs/cdk-deploy.log:" >&2; tail -n 40 "$logs/cdk-deploy.log" >&2; exit 1; }
fi
echo "Deployed in $(( SECONDS - started ))s (log: $logs/cdk-deploy.log)"
