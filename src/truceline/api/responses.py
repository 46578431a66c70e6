"""What the response models share: their base, and the JSON number.

Each api module declares the models of its own answers beside its routes (as
``zones.ZoneOut``); the OpenAPI document describes every response body from them.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

# A JSON number as the service gives it: an int stays an int on the wire (``100``, not
# ``100.0``), which a bare ``float`` field would change.
Number = int | float

M = TypeVar("M", bound="Out")


class Out(BaseModel):
    """Base of the response models. They read the service's results whether dicts or
    dataclasses (``from_attributes``); a field whose wire name is a Python keyword
    (``from``) is declared by alias."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    @classmethod
    def of(cls: type[M], result: Any) -> M:
        """The model of one service result (a dict or a dataclass with the same names)."""
        return cls.model_validate(result, from_attributes=True)

    @classmethod
    def many(cls: type[M], results: Any) -> list[M]:
        """The models of a list of service results."""
        return [cls.of(r) for r in results]


class HealthOut(Out):
    """``GET /health``: the server is up, and how long its log is."""

    status: Literal["ok"]
    tree_size: int
