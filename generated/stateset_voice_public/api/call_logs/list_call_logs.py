import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error import ApiError
from ...models.call_direction import CallDirection
from ...models.call_log_list import CallLogList
from ...models.call_status import CallStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    status: CallStatus | Unset = UNSET,
    direction: CallDirection | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    json_direction: str | Unset = UNSET
    if not isinstance(direction, Unset):
        json_direction = direction.value

    params["direction"] = json_direction

    params["agent_key"] = agent_key

    json_created_after: str | Unset = UNSET
    if not isinstance(created_after, Unset):
        json_created_after = created_after.isoformat()
    params["created_after"] = json_created_after

    json_created_before: str | Unset = UNSET
    if not isinstance(created_before, Unset):
        json_created_before = created_before.isoformat()
    params["created_before"] = json_created_before

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/call-logs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiError | CallLogList | None:
    if response.status_code == 200:
        response_200 = CallLogList.from_dict(response.json())

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
) -> Response[ApiError | CallLogList]:
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
    status: CallStatus | Unset = UNSET,
    direction: CallDirection | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> Response[ApiError | CallLogList]:
    """List call logs

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        status (CallStatus | Unset): Lifecycle of a call: queued -> ringing -> in-progress ->
            completed, or an early end (no-answer, busy, failed, canceled).
        direction (CallDirection | Unset):
        agent_key (str | Unset):
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | CallLogList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        status=status,
        direction=direction,
        agent_key=agent_key,
        created_after=created_after,
        created_before=created_before,
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
    status: CallStatus | Unset = UNSET,
    direction: CallDirection | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> ApiError | CallLogList | None:
    """List call logs

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        status (CallStatus | Unset): Lifecycle of a call: queued -> ringing -> in-progress ->
            completed, or an early end (no-answer, busy, failed, canceled).
        direction (CallDirection | Unset):
        agent_key (str | Unset):
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | CallLogList
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
        status=status,
        direction=direction,
        agent_key=agent_key,
        created_after=created_after,
        created_before=created_before,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    status: CallStatus | Unset = UNSET,
    direction: CallDirection | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> Response[ApiError | CallLogList]:
    """List call logs

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        status (CallStatus | Unset): Lifecycle of a call: queued -> ringing -> in-progress ->
            completed, or an early end (no-answer, busy, failed, canceled).
        direction (CallDirection | Unset):
        agent_key (str | Unset):
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | CallLogList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        status=status,
        direction=direction,
        agent_key=agent_key,
        created_after=created_after,
        created_before=created_before,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    status: CallStatus | Unset = UNSET,
    direction: CallDirection | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> ApiError | CallLogList | None:
    """List call logs

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        status (CallStatus | Unset): Lifecycle of a call: queued -> ringing -> in-progress ->
            completed, or an early end (no-answer, busy, failed, canceled).
        direction (CallDirection | Unset):
        agent_key (str | Unset):
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | CallLogList
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
            status=status,
            direction=direction,
            agent_key=agent_key,
            created_after=created_after,
            created_before=created_before,
        )
    ).parsed
