"""Serve `torch`, `torchvision` and `torchsummary` imports from ember (used by `ember run`).

install() puts a finder at the front of sys.meta_path. `import torch.nn` then yields a thin alias
module named torch.nn that forwards attribute reads to ember.nn, so classes and functions are
ember's own objects, while names ember lacks fail loudly: "ember does not implement torch.nn.Conv3d"."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

from ._version_info import TORCH_API, TORCHVISION_API

# alias root -> ember module serving it; most specific first for the reverse lookup
ALIASES = {"torchvision": "ember.vision", "torchsummary": "ember.summary", "torch": "ember"}
_REVERSE = sorted(((real, alias) for alias, real in ALIASES.items()), key=lambda p: -len(p[0]))


# what `torch.__version__` and `torchvision.__version__` read under `ember run`: the releases ember follows
SERVED_VERSIONS = {"torch": TORCH_API, "torchvision": TORCHVISION_API}


class MissingAPIError(AttributeError):
    """A torch API ember does not provide (an AttributeError, so hasattr() probes still answer False)."""


def ember_name(alias: str) -> str | None:
    """The ember module serving an aliased module name (torch.nn -> ember.nn), or None."""
    for root, real in ALIASES.items():
        if alias == root or alias.startswith(root + "."):
            return real + alias[len(root) :]
    return None


def alias_name(real: str) -> str | None:
    """The aliased name of an ember module (ember.vision.datasets -> torchvision.datasets), or None."""
    for prefix, alias in _REVERSE:
        if real == prefix or real.startswith(prefix + "."):
            return alias + real[len(prefix) :]
    return None


class AliasModule(types.ModuleType):
    """A module named like torch's that reads its attributes from an ember module."""

    def __init__(self, name: str, target: types.ModuleType) -> None:
        super().__init__(name, getattr(target, "__doc__", None))
        d = self.__dict__
        d["_ember_target"] = target
        if hasattr(target, "__file__"):
            d["__file__"] = target.__file__
        if hasattr(target, "__path__"):
            d["__path__"] = []  # a package, but only our finder resolves its submodules

    def __getattr__(self, name: str):
        target = self.__dict__["_ember_target"]
        try:
            value = getattr(target, name)
        except AttributeError:
            if name.startswith("__") and name.endswith("__"):
                raise AttributeError(f"module '{self.__name__}' has no attribute '{name}'") from None
            raise MissingAPIError(f"ember does not implement {self.__name__}.{name}") from None
        if isinstance(value, types.ModuleType) and not isinstance(value, AliasModule):
            alias = alias_name(value.__name__)
            if alias is not None:
                return importlib.import_module(alias)
        return value

    def __setattr__(self, name: str, value) -> None:
        # Module metadata and child modules stay on the alias; anything else (flags, patches) reaches ember.
        if (name.startswith("__") and name.endswith("__")) or isinstance(value, AliasModule):
            self.__dict__[name] = value
        else:
            setattr(self.__dict__["_ember_target"], name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self.__dict__["_ember_target"])) | set(self.__dict__))

    def __repr__(self) -> str:
        return f"<module '{self.__name__}' (served by {self.__dict__['_ember_target'].__name__})>"


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds torch / torchvision / torchsummary modules and builds them as aliases of ember's."""

    def find_spec(self, fullname: str, path=None, target=None):
        if ember_name(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> AliasModule:
        real = ember_name(spec.name)
        try:
            mod = importlib.import_module(real)
        except ModuleNotFoundError as e:
            if e.name is not None and (real == e.name or real.startswith(e.name + ".")):
                raise ModuleNotFoundError(
                    f"No module named '{spec.name}' (ember does not implement {spec.name})", name=spec.name
                ) from None
            raise
        alias = AliasModule(spec.name, mod)
        if spec.name in SERVED_VERSIONS:  # version checks in programs compare with torch's numbers, not ember's
            alias.__dict__["__version__"] = SERVED_VERSIONS[spec.name]
        return alias

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the ember module was imported in create_module."""


_FINDER = AliasFinder()


def install() -> None:
    """Serve torch, torchvision and torchsummary from ember in this process (replacing any already imported)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    for name in list(sys.modules):
        if ember_name(name) is not None and not isinstance(sys.modules[name], AliasModule):
            del sys.modules[name]


def uninstall() -> None:
    """Undo install(): drop the finder and the alias modules."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in list(sys.modules):
        if isinstance(sys.modules[name], AliasModule):
            del sys.modules[name]


def is_installed() -> bool:
    """Whether torch imports are being served by ember."""
    return _FINDER in sys.meta_path
