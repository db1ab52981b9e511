"""Import ASFF findings into Security Hub: BatchImportFindings in batches of at most 100.

The client is given (the caller's session, region and account: Security Hub takes findings of the
calling account under its default product ARN). A throttled call is retried a few times with a
growing pause; any other error fails that batch. Logs counts only, never a finding's body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from secagent.outputs.asff import batches

logger = logging.getLogger(__name__)

# Security Hub answers LimitExceededException when its rate limit is hit (10 TPS, burst 30).
THROTTLING = frozenset({"LimitExceededException", "ThrottlingException", "TooManyRequestsException"})
ATTEMPTS = 4  # per batch: the first call and three retries
BASE_DELAY_SECONDS = 0.5


@dataclass
class ImportSummary:
    imported: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)  # {id, code, message}
    calls: int = 0  # BatchImportFindings calls made, retries included


def _call(
    client: Any, batch: list[dict[str, Any]], summary: ImportSummary, sleep: Callable[[float], None]
) -> dict[str, Any] | ClientError:
    for attempt in range(ATTEMPTS):
        summary.calls += 1
        try:
            answer: dict[str, Any] = client.batch_import_findings(Findings=batch)
            return answer
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code not in THROTTLING or attempt == ATTEMPTS - 1:
                return err
            delay = BASE_DELAY_SECONDS * 2**attempt
            logger.warning("BatchImportFindings throttled (%s); retrying in %.1fs", code, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # the loop returns on its last attempt


def import_findings(
    securityhub_client: Any,
    findings: Iterable[dict[str, Any]],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> ImportSummary:
    """Imports every finding; a finding Security Hub refuses (FailedFindings) or a batch whose call
    failed is counted in ``failed`` with its id, the error code and message."""
    summary = ImportSummary()
    for batch in batches(findings):
        answer = _call(securityhub_client, batch, summary, sleep)
        if isinstance(answer, ClientError):
            error = answer.response.get("Error", {})
            code, message = error.get("Code", "ClientError"), error.get("Message", "")
            summary.failed += len(batch)
            summary.failures += [{"id": str(f.get("Id")), "code": code, "message": message} for f in batch]
            logger.error("BatchImportFindings failed for %d findings: %s", len(batch), code)
            continue
        failed = answer.get("FailedFindings") or []
        summary.imported += int(answer.get("SuccessCount", len(batch) - len(failed)))
        summary.failed += int(answer.get("FailedCount", len(failed)))
        summary.failures += [
            {"id": str(f.get("Id")), "code": str(f.get("ErrorCode")), "message": str(f.get("ErrorMessage"))}
            for f in failed
        ]
    logger.info("Security Hub import: %d imported, %d failed", summary.imported, summary.failed)
    return summary
