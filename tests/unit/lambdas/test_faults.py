"""Test-only fault injection: inert by default, exact when enabled."""

import time

import pytest

from lambdas import faults
from secagent.models.errors import ResourceNotFound, TransientError

EVENT = {"faults": {"discover": {"kind": "error", "error": "TransientError", "times": 1}}}


def test_faults_disabled_by_default_ignore_the_request():
    assert faults.ENABLED is False  # the unit-test environment sets no SECAGENT_FAULT_INJECTION
    faults.inject("discover", {**EVENT, "attempt": 0})


def test_faults_enabled_error_raised_on_first_attempts_only(monkeypatch):
    monkeypatch.setattr(faults, "ENABLED", True)
    with pytest.raises(TransientError):
        faults.inject("discover", {**EVENT, "attempt": 0})
    faults.inject("discover", {**EVENT, "attempt": 1})
    faults.inject("analyze", {**EVENT, "attempt": 0})  # another tool is untouched


def test_faults_enabled_named_error_class_and_always_without_times(monkeypatch):
    monkeypatch.setattr(faults, "ENABLED", True)
    event = {"faults": {"discover": {"kind": "error", "error": "ResourceNotFound"}}, "attempt": 5}
    with pytest.raises(ResourceNotFound):
        faults.inject("discover", event)


def test_faults_enabled_delay_sleeps(monkeypatch):
    monkeypatch.setattr(faults, "ENABLED", True)
    started = time.perf_counter()
    faults.inject("verify", {"faults": {"verify": {"kind": "delay", "seconds": 0.2}}})
    assert time.perf_counter() - started >= 0.2
