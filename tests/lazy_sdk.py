"""Official SDKs imported when a test first uses one, not when pytest collects the module.

Importing the voucherify SDK alone took about a third of the suite's collection, paid by every
worker before any test ran. `sdk("voucherify")` stands where the module
did: the first attribute read imports it (`pytest.importorskip`, so a missing SDK skips the test
that needed it, as the module-level importorskip did, and no longer the module's other tests),
and reads and writes (`monkeypatch.setattr(stripe, ...)`) reach the real module.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest


class _Lazy:
    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _module(self) -> ModuleType:
        return pytest.importorskip(object.__getattribute__(self, "_name"))

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):  # pytest's collection probes every module global (`__test__`, fixture
            raise AttributeError(attribute)  # markers): that must not import the SDK; the SDKs' API is public
        return getattr(self._module(), attribute)

    def __dir__(self) -> list[str]:  # dir(sdk) lists the module's names, as it would on the module
        return dir(self._module())

    def __setattr__(self, attribute: str, value: Any) -> None:
        setattr(self._module(), attribute, value)

    def __delattr__(self, attribute: str) -> None:
        delattr(self._module(), attribute)


def sdk(name: str) -> Any:
    """The module `name`, imported at its first use."""
    return _Lazy(name)


def one_worker(name: str) -> pytest.MarkDecorator:
    """The mark for tests that use SDK `name`: under `--dist loadgroup` they all run on one worker, so the
    SDK's import (voucherify's about 4.5 s of CPU, chargebee's about 1 s) is paid once per run, not per worker."""
    return pytest.mark.xdist_group(f"{name}-sdk")
