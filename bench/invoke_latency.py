"""Cold and warm Lambda invoke latency through Step Functions on LocalStack (process executor).

Runs the deployed skeleton state machine (one Lambda task) and, side by side, a baseline machine
of one Pass state, so the ratio isolates what the Lambda task costs on this machine.
Usage: make deploy && .venv/bin/python -m bench.invoke_latency [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid

from scripts.localstack_client import client, stack_outputs


def run(sfn, machine_arn: str) -> float:
    started = time.perf_counter()
    arn = sfn.start_execution(stateMachineArn=machine_arn, input="{}")["executionArn"]
    while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
        time.sleep(0.01)
    if status != "SUCCEEDED":
        raise SystemExit(f"execution {arn} ended {status}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    sfn, lam = client("stepfunctions"), client("lambda")
    machine = stack_outputs()["StateMachineArn"]
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"])
    function = next(s for s in definition["States"].values() if s["Type"] == "Task")["Parameters"][
        "FunctionName"
    ]
    baseline = sfn.create_state_machine(
        name=f"bench-baseline-{uuid.uuid4().hex[:8]}",
        definition=json.dumps({"StartAt": "Noop", "States": {"Noop": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::000000000000:role/bench",
    )["stateMachineArn"]
    try:
        # A configuration change retires the warm environments: the next run is a cold start.
        env = (
            lam.get_function_configuration(FunctionName=function).get("Environment", {}).get("Variables", {})
        )
        lam.update_function_configuration(
            FunctionName=function, Environment={"Variables": {**env, "BENCH_RUN": uuid.uuid4().hex}}
        )
        lam.get_waiter("function_updated_v2").wait(FunctionName=function)
        cold = run(sfn, machine)
        warm, base = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            warm.append(run(sfn, machine))
            base.append(run(sfn, baseline))
    finally:
        sfn.delete_state_machine(stateMachineArn=baseline)

    figures = {
        "cold_s": round(cold, 3),
        "warm_median_s": round(statistics.median(warm), 3),
        "warm_p95_s": round(sorted(warm)[int(0.95 * (len(warm) - 1))], 3),
        "baseline_pass_median_s": round(statistics.median(base), 3),
        "warm_over_baseline": round(statistics.median(warm) / statistics.median(base), 2),
        "cold_over_warm": round(cold / statistics.median(warm), 2),
        "runs": args.runs,
    }
    print(f"{'figure':<24}{'value':>10}")
    for key, value in figures.items():
        print(f"{key:<24}{value:>10}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
