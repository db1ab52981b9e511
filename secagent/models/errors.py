"""Typed errors.

The class names are a contract: Lambda reports them as ``errorType`` and the state
machine's Retry/Catch blocks match on them. Do not rename.
"""


class SecAgentError(Exception):
    """Base class of every error the agent raises on purpose."""

    retryable: bool = False


class InvalidInput(SecAgentError):
    """The request is malformed (e.g. invalid bucket name, bad event shape)."""


class ResourceNotFound(SecAgentError):
    """The resource to audit does not exist. Not retryable."""


class AccessDenied(SecAgentError):
    """The caller may not perform an operation required to proceed."""


class StoreUnavailable(SecAgentError):
    """The agent's own report bucket refused a read or a write, or lacks its bucket: a problem of
    the deployment, not of the audited resource (never RESOURCE_NOT_FOUND or ACCESS_DENIED):
    a resumable failure once it is fixed."""


class TransientError(SecAgentError):
    """Throttling, timeouts or 5xx from AWS: retrying later may succeed."""

    retryable = True


class ApprovalInvalid(SecAgentError):
    """What would be applied is not exactly what a person approved: nothing is applied. Not retryable."""


class AuditNotRequested(SecAgentError):
    """The execution has no request record written by the audit API: it was not started through it."""


class NotInvokedByWorkflow(SecAgentError):
    """A tool was invoked outside its audit's running execution and state (a direct invocation)."""
