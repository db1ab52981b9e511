"""Infrastructure Security Agent: domain layer (discover, analyze, remediate)."""

__version__ = "0.1.0"
