"""A small HTTP client of the API, for the CLI's client commands (``truceline zones``,
``ops file``, ``inbox``, ``ack``). Configured by ``--url``/``TRUCELINE_URL`` and
``--token``/``TRUCELINE_TOKEN``; ``transport`` lets tests talk to an in-process app."""

from __future__ import annotations

from typing import Any

import httpx

from truceline.errors import TrucelineError

DEFAULT_URL = "http://127.0.0.1:8000"


class ClientError(TrucelineError):
    """The server refused a request (``status`` and the problem+json body) or could not be reached."""

    type_slug = "client"

    def __init__(
        self, message: str, status: int | None = None, problem: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem or {}


class Client:
    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout_s, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response, whatever its status; ClientError when the server cannot be reached."""
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach {self._http.base_url}: {error}") from None

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a 2xx response; ClientError (with the problem) otherwise."""
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise problem_error(response)
        return response.json()


def problem_error(response: httpx.Response) -> ClientError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = problem.get("detail") or response.text[:200] or response.reason_phrase
    field = problem.get("field")
    where = f"{field}: " if field else ""
    return ClientError(f"HTTP {response.status_code}: {where}{detail}", response.status_code, problem)
