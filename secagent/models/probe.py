"""A configuration field as read (``Probe``), and the configuration of a resource type made of them."""

from typing import Literal

from secagent.models.base import CamelModel


class Probe[T](CamelModel):
    """One configuration field as read: its value, or ``unknown`` with the reason.

    ``state == "ok"`` with ``value is None`` means "read fine, not configured".
    """

    state: Literal["ok", "unknown"] = "ok"
    value: T | None = None
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.state == "ok"


class ResourceConfig(CamelModel):
    """A resource type's configuration: every field a ``Probe``, so an unreadable one is UNKNOWN."""
