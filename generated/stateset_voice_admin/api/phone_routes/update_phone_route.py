from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error import ApiError
from ...models.phone_route import PhoneRoute
from ...models.phone_route_update import PhoneRouteUpdate
from ...types import Response


def _get_kwargs(
    route_id: str,
    *,
    body: PhoneRouteUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/admin/phone-routes/{route_id}".format(
            route_id=quote(str(route_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiError | PhoneRoute | None:
    if response.status_code == 200:
        response_200 = PhoneRoute.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = ApiError.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = ApiError.from_dict(response.json())

        return response_422

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
) -> Response[ApiError | PhoneRoute]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    route_id: str,
    *,
    client: AuthenticatedClient,
    body: PhoneRouteUpdate,
) -> Response[ApiError | PhoneRoute]:
    """Change a phone route

    Args:
        route_id (str):
        body (PhoneRouteUpdate): Fields to change; omitted fields keep their value.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | PhoneRoute]
    """

    kwargs = _get_kwargs(
        route_id=route_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    route_id: str,
    *,
    client: AuthenticatedClient,
    body: PhoneRouteUpdate,
) -> ApiError | PhoneRoute | None:
    """Change a phone route

    Args:
        route_id (str):
        body (PhoneRouteUpdate): Fields to change; omitted fields keep their value.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | PhoneRoute
    """

    return sync_detailed(
        route_id=route_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    route_id: str,
    *,
    client: AuthenticatedClient,
    body: PhoneRouteUpdate,
) -> Response[ApiError | PhoneRoute]:
    """Change a phone route

    Args:
        route_id (str):
        body (PhoneRouteUpdate): Fields to change; omitted fields keep their value.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiError | PhoneRoute]
    """

    kwargs = _get_kwargs(
        route_id=route_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    route_id: str,
    *,
    client: AuthenticatedClient,
    body: PhoneRouteUpdate,
) -> ApiError | PhoneRoute | None:
    """Change a phone route

    Args:
        route_id (str):
        body (PhoneRouteUpdate): Fields to change; omitted fields keep their value.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiError | PhoneRoute
    """

    return (
        await asyncio_detailed(
            route_id=route_id,
            client=client,
            body=body,
        )
    ).parsed
