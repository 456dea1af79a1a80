"""scikit-learn's estimator conventions without importing scikit-learn (~1 s of start-up).

``get_params`` / ``set_params`` read the constructor's parameters, ``clone`` builds an unfitted
copy, and the repr shows the parameters; ``sklearn.base.clone`` works on these estimators too,
since it only needs ``get_params``.
"""

from __future__ import annotations

import inspect
from typing import Any, Self, TypeVar

from consensus.errors import NotFittedError

E = TypeVar("E", bound="Estimator")


class Estimator:
    """Parameters are the ``__init__`` arguments, stored under the same names."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self._param_names():
            value = getattr(self, name)
            out[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
        return out

    def set_params(self, **params: Any) -> Self:
        valid = set(self._param_names())
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}")
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        shown = []
        for name in self._param_names():
            default = sig.parameters[name].default
            value = getattr(self, name)
            if default is inspect.Parameter.empty or value is not default:
                try:
                    if value == default:
                        continue
                except Exception:  # arrays and the like: show them
                    pass
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def clone(est: E) -> E:
    """An unfitted copy with the same parameters (nested estimators cloned too)."""
    params = {
        k: clone(v) if isinstance(v, Estimator) else v
        for k, v in est.get_params(deep=False).items()
    }
    return type(est)(**params)


def check_is_fitted(est: object, attribute: str) -> None:
    if not hasattr(est, attribute):
        raise NotFittedError(
            f"This {type(est).__name__} instance is not fitted yet; call 'fit' first."
        )
