from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error import ApiError
from ...models.phone_route_list import PhoneRouteList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    tenant_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    params["tenant_id"] = tenant_id

    params["agent_key"] = agent_key

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/admin/phone-routes",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiError | PhoneRouteList | None:
    if response.status_code == 200:
        response_200 = PhoneRouteList.from_dict(response.json())

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
) -> Response[ApiError | PhoneRouteList]:
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
) -> Response[ApiError | PhoneRouteList]:
    """List phone routes

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        tenant_id (str | Unset):
        agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | PhoneRouteList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        tenant_id=tenant_id,
        agent_key=agent_key,
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
) -> ApiError | PhoneRouteList | None:
    """List phone routes

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        tenant_id (str | Unset):
        agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | PhoneRouteList
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
        tenant_id=tenant_id,
        agent_key=agent_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 25,
    offset: int | Unset = 0,
    tenant_id: str | Unset = UNSET,
    agent_key: str | Unset = UNSET,
) -> Response[ApiError | PhoneRouteList]:
    """List phone routes

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        tenant_id (str | Unset):
        agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | PhoneRouteList]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        tenant_id=tenant_id,
        agent_key=agent_key,
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
) -> ApiError | PhoneRouteList | None:
    """List phone routes

    Args:
        limit (int | Unset):  Default: 25.
        offset (int | Unset):  Default: 0.
        tenant_id (str | Unset):
        agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | PhoneRouteList
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
            tenant_id=tenant_id,
            agent_key=agent_key,
        )
    ).parsed
