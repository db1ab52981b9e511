"""Environment the workflow tool handlers read at import (cold start)."""

import os

os.environ.setdefault("REPORT_BUCKET", "secagent-reports-bucket")
os.environ.setdefault("EVENT_BUS_NAME", "default")
