"""Standard finding formats: OCSF Compliance Finding (class 2003) and AWS Security Finding Format
(ASFF) for Security Hub, built from an audit's report or a swept resource (docs/outputs.md).

``source`` reads both inputs into one view; ``ocsf`` and ``asff`` render it; ``security_hub``
imports ASFF findings. Pure functions except ``security_hub.import_findings``, which calls the
client it is given.
"""

from secagent.outputs.source import OutputError

__all__ = ["OutputError"]
