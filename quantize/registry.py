"""Architecture registry, filled by the @register decorator in each quantize/arches module."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from quantize.arches.base import Arch

_BY_HF_NAME: dict[str, type[Arch]] = {}
A = TypeVar("A", bound="type[Arch]")


def register(*hf_architectures: str) -> Any:
    """Class decorator: map the HF `architectures` names to this module's Arch subclass."""

    def wrap(cls: A) -> A:
        for name in hf_architectures:
            if name in _BY_HF_NAME:
                raise ValueError(f"{name} registered twice")
            _BY_HF_NAME[name] = cls
        return cls

    return wrap


def _load_all() -> None:
    # Importing each module runs its @register; the module list is the package itself.
    import quantize.arches as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name != "base":
            importlib.import_module(f"quantize.arches.{mod.name}")


def lookup(config: dict[str, Any]) -> type[Arch]:
    """The Arch class for a config.json; raise KeyError naming the unknown architecture."""
    _load_all()
    names = config.get("architectures") or []
    for name in names:
        if name in _BY_HF_NAME:
            return _BY_HF_NAME[name]
    raise KeyError(
        f"unknown architecture {names or config.get('model_type')!r}; "
        f"supported: {sorted(_BY_HF_NAME)}"
    )


def supported() -> list[str]:
    """All registered HF architecture names."""
    _load_all()
    return sorted(_BY_HF_NAME)
