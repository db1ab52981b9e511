"""Thin Lambda entry points over the secagent domain layer."""
