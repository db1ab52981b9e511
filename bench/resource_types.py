"""What a second resource type costs per audit, in process on moto: Discover + Analyze + Propose
for a security group against the same for a bucket, interleaved round by round (the machine is
noisy: the ratio of the medians is the figure, not either time alone).

    .venv/bin/python -m bench.resource_types [--rounds 30]

The bucket is the one `make demo` audits in spirit (public through its policy, default settings
otherwise); the group has SSH open to the internet, HTTPS from an office range, and is in use.
Prints calls per read and the medians; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import boto3
from moto import mock_aws

from scripts.groups import create_open_group
from secagent.aws import client_factory
from secagent.checks import analyze
from secagent.discovery import discover
from secagent.models import AgentSettings, ResourceRef, Snapshot
from secagent.remediation import plan_remediations

for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3_CONTROL"):
    os.environ.pop(variable, None)  # moto answers in process
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")


def _bucket(session: boto3.Session) -> ResourceRef:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="bench-public-bucket")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bench-public-bucket/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket="bench-public-bucket", Policy=json.dumps(policy))
    return ResourceRef(id="bench-public-bucket")


def _group(session: boto3.Session) -> ResourceRef:
    return ResourceRef(
        type="AWS::EC2::SecurityGroup", id=create_open_group(session.client("ec2"), "bench-web")
    )


def _audit(
    resource: ResourceRef, session: boto3.Session, settings: AgentSettings
) -> tuple[float, Snapshot, int]:
    clients = client_factory(session)
    started = time.perf_counter()
    snapshot = discover(resource, session, clients=clients)
    analysis = analyze(snapshot, settings)
    plans = plan_remediations(snapshot, analysis, settings).plans
    return time.perf_counter() - started, snapshot, len(plans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    settings = AgentSettings()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        subjects: dict[str, ResourceRef] = {"bucket": _bucket(session), "security group": _group(session)}
        times: dict[str, list[float]] = {name: [] for name in subjects}
        shown: dict[str, str] = {}
        for _ in range(rounds):
            for name, resource in subjects.items():  # interleaved: both see the same noise
                seconds, snapshot, plans = _audit(resource, session, settings)
                times[name].append(seconds)
                shown[name] = f"{snapshot.read_by.calls} calls, {plans} plans"
    for name, measured in times.items():
        median, p90 = statistics.median(measured), statistics.quantiles(measured, n=10)[-1]
        print(f"{name:15} median {median * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms  ({shown[name]})")
    ratio = statistics.median(times["security group"]) / statistics.median(times["bucket"])
    print(f"security group / bucket: {ratio:.2f}x over {rounds} interleaved rounds")


if __name__ == "__main__":
    main()
