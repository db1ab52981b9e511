#!/usr/bin/env bash
# Deploys the SecurityAgent stack to LocalStack: CDK bootstrap once, then deploy with no prompts.
# Extra arguments go to `cdk deploy` (the tests add `-c faultInjection=true`).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
if ! .venv/bin/python -m scripts.localstack_client stack-exists CDKToolkit; then
  echo "CDK bootstrap of the LocalStack account (once)"
  scripts/cdk.sh bootstrap --quiet aws://000000000000/us-east-1 >.localstack/logs/cdk-bootstrap.log 2>&1 \
    || { tail -n 30 .localstack/logs/cdk-bootstrap.log >&2; exit 1; }
fi
echo "Deploying the SecurityAgent stack to LocalStack"
scripts/cdk.sh deploy SecurityAgent --require-approval never --progress events "$@" \
  --outputs-file .localstack/stack-outputs.json >.localstack/logs/cdk-deploy.log 2>&1 \
  || { echo "error: deploy failed; last lines of .localstack/logs/cdk-deploy.log:" >&2; tail -n 40 .localstack/logs/cdk-deploy.log >&2; exit 1; }
echo "Deployed in $(( SECONDS - started ))s (log: .localstack/logs/cdk-deploy.log)"
