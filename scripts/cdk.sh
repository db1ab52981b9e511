#!/usr/bin/env bash
# Runs the pinned cdklocal (CDK CLI aimed at LocalStack) with the environment it needs.
# For a real AWS account use `npx cdk ...` with your own credentials instead (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
# cdklocal refuses AWS_ENDPOINT_URL unless the S3 endpoint is set too.
source scripts/localstack-env.sh
export AWS_ENDPOINT_URL_S3=${AWS_ENDPOINT_URL_S3:-$AWS_ENDPOINT_URL}
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 CDK_DISABLE_CLI_TELEMETRY=1
export PATH="$PWD/.venv/bin:$PATH"
# A cloud assembly per LocalStack, so deployments to two of them never share cdk.out.
exec node_modules/.bin/cdklocal --output "$LOCALSTACK_STATE/cdk.out" "$@"
