from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.agent_version_list import AgentVersionList
from ...models.agent_version_status import AgentVersionStatus
from ...models.api_error import ApiError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    tenant_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    status: AgentVersionStatus | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    params["tenant_id"] = tenant_id

    params["agent_key"] = agent_key

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/admin/agent-versions",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AgentVersionList | ApiError | None:
    if response.status_code == 200:
        response_200 = AgentVersionList.from_dict(response.json())

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
) -> Response[AgentVersionList | ApiError]:
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
    tenant_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    status: AgentVersionStatus | Unset = UNSET,
) -> Response[AgentVersionList | ApiError]:
    """List agent versions

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        tenant_id (str | Unset):
        agent_key (str | Unset):
        status (AgentVersionStatus | Unset): staged -> approved -> published; a published version
            is retired when another is published.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AgentVersionList | ApiError]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        tenant_id=tenant_id,
        agent_key=agent_key,
        status=status,
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
    tenant_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    status: AgentVersionStatus | Unset = UNSET,
) -> AgentVersionList | ApiError | None:
    """List agent versions

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        tenant_id (str | Unset):
        agent_key (str | Unset):
        status (AgentVersionStatus | Unset): staged -> approved -> published; a published version
            is retired when another is published.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AgentVersionList | ApiError
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
        tenant_id=tenant_id,
        agent_key=agent_key,
        status=status,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    tenant_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    status: AgentVersionStatus | Unset = UNSET,
) -> Response[AgentVersionList | ApiError]:
    """List agent versions

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        tenant_id (str | Unset):
        agent_key (str | Unset):
        status (AgentVersionStatus | Unset): staged -> approved -> published; a published version
            is retired when another is published.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AgentVersionList | ApiError]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        tenant_id=tenant_id,
        agent_key=agent_key,
        status=status,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    tenant_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
    status: AgentVersionStatus | Unset = UNSET,
) -> AgentVersionList | ApiError | None:
    """List agent versions

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        tenant_id (str | Unset):
        agent_key (str | Unset):
        status (AgentVersionStatus | Unset): staged -> approved -> published; a published version
            is retired when another is published.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AgentVersionList | ApiError
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
            tenant_id=tenant_id,
            agent_key=agent_key,
            status=status,
        )
    ).parsed
