"""Sweeps: Discover + Analyze of every resource of several accounts, read-only (docs/sweep.md)."""
