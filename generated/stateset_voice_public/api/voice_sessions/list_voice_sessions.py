from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error import ApiError
from ...models.voice_session_list import VoiceSessionList
from ...models.voice_session_status import VoiceSessionStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    status: VoiceSessionStatus | Unset = UNSET,
    call_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params["call_id"] = call_id

    params["agent_key"] = agent_key

    params["tag"] = tag

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/voice-sessions",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiError | VoiceSessionList | None:
    if response.status_code == 200:
        response_200 = VoiceSessionList.from_dict(response.json())

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
) -> Response[ApiError | VoiceSessionList]:
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
    status: VoiceSessionStatus | Unset = UNSET,
    call_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> Response[ApiError | VoiceSessionList]:
    """List voice sessions

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        status (VoiceSessionStatus | Unset):
        call_id (str | Unset):
        agent_key (str | Unset):
        tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | VoiceSessionList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        status=status,
        call_id=call_id,
        agent_key=agent_key,
        tag=tag,
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
    status: VoiceSessionStatus | Unset = UNSET,
    call_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> ApiError | VoiceSessionList | None:
    """List voice sessions

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        status (VoiceSessionStatus | Unset):
        call_id (str | Unset):
        agent_key (str | Unset):
        tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | VoiceSessionList
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
        status=status,
        call_id=call_id,
        agent_key=agent_key,
        tag=tag,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    status: VoiceSessionStatus | Unset = UNSET,
    call_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> Response[ApiError | VoiceSessionList]:
    """List voice sessions

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        status (VoiceSessionStatus | Unset):
        call_id (str | Unset):
        agent_key (str | Unset):
        tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | VoiceSessionList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        status=status,
        call_id=call_id,
        agent_key=agent_key,
        tag=tag,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    status: VoiceSessionStatus | Unset = UNSET,
    call_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    tag: str | Unset = UNSET,
) -> ApiError | VoiceSessionList | None:
    """List voice sessions

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        status (VoiceSessionStatus | Unset):
        call_id (str | Unset):
        agent_key (str | Unset):
        tag (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | VoiceSessionList
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
            status=status,
            call_id=call_id,
            agent_key=agent_key,
            tag=tag,
        )
    ).parsed
