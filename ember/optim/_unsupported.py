"""Names torch.optim has and ember does not implement: they import, and using them says so.

A script that imports several optimizers but trains with one that ember has should still run, and
`hasattr(optim, name)` should answer as it does under torch; only constructing one raises."""

from __future__ import annotations

SUPPORTED = "SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax or NAdam"


def unsupported_class(qualified_name: str, advice: str) -> type:
    """A class whose construction raises NotImplementedError naming the torch API and what to use instead."""

    def __init__(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"ember does not implement {qualified_name}; {advice}")

    short = qualified_name.rsplit(".", 1)[-1]
    return type(
        short, (), {"__init__": __init__, "__doc__": f"Placeholder: ember does not implement {qualified_name}."}
    )


def unsupported_function(qualified_name: str, advice: str):
    """A function that raises NotImplementedError naming the torch API and what to use instead."""

    def fn(*args, **kwargs):
        raise NotImplementedError(f"ember does not implement {qualified_name}; {advice}")

    fn.__name__ = qualified_name.rsplit(".", 1)[-1]
    fn.__doc__ = f"Placeholder: ember does not implement {qualified_name}."
    return fn


ASGD, LBFGS, RAdam, Rprop, SparseAdam, Adafactor = (
    unsupported_class(f"torch.optim.{name}", f"use {SUPPORTED}")
    for name in ("ASGD", "LBFGS", "RAdam", "Rprop", "SparseAdam", "Adafactor")
)
