from secagent.discovery.names import bucket_name_problem, validate_bucket_name
from secagent.discovery.s3 import discover_bucket

__all__ = ["bucket_name_problem", "discover_bucket", "validate_bucket_name"]
