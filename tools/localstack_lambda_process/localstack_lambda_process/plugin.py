from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Registered as `process`; LocalStack loads it when LAMBDA_RUNTIME_EXECUTOR=process."""

    name = "process"

    def load(self, *args, **kwargs):
        from localstack_lambda_process.executor import ProcessRuntimeExecutor

        return ProcessRuntimeExecutor
