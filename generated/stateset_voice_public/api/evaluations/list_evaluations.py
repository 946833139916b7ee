from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error import ApiError
from ...models.evaluation_list import EvaluationList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    session_id: str | Unset = UNSET,
    call_id: str | Unset = UNSET,
    passed: bool | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    params["session_id"] = session_id

    params["call_id"] = call_id

    params["passed"] = passed

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/evaluations",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiError | EvaluationList | None:
    if response.status_code == 200:
        response_200 = EvaluationList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ApiError.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ApiError.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ApiError.from_dict(response.json())

        return response_403

    if response.status_code == 429:
        response_429 = ApiError.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ApiError.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ApiError.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ApiError | EvaluationList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    session_id: str | Unset = UNSET,
    call_id: str | Unset = UNSET,
    passed: bool | Unset = UNSET,
) -> Response[ApiError | EvaluationList]:
    """List session evaluations

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        session_id (str | Unset):
        call_id (str | Unset):
        passed (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | EvaluationList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        session_id=session_id,
        call_id=call_id,
        passed=passed,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    session_id: str | Unset = UNSET,
    call_id: str | Unset = UNSET,
    passed: bool | Unset = UNSET,
) -> ApiError | EvaluationList | None:
    """List session evaluations

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        session_id (str | Unset):
        call_id (str | Unset):
        passed (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | EvaluationList
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
        session_id=session_id,
        call_id=call_id,
        passed=passed,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    session_id: str | Unset = UNSET,
    call_id: str | Unset = UNSET,
    passed: bool | Unset = UNSET,
) -> Response[ApiError | EvaluationList]:
    """List session evaluations

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        session_id (str | Unset):
        call_id (str | Unset):
        passed (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | EvaluationList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        session_id=session_id,
        call_id=call_id,
        passed=passed,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    session_id: str | Unset = UNSET,
    call_id: str | Unset = UNSET,
    passed: bool | Unset = UNSET,
) -> ApiError | EvaluationList | None:
    """List session evaluations

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        session_id (str | Unset):
        call_id (str | Unset):
        passed (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | EvaluationList
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
            session_id=session_id,
            call_id=call_id,
            passed=passed,
        )
    ).parsed
