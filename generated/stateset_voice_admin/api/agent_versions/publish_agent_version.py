from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.agent_version import AgentVersion
from ...models.agent_version_publish import AgentVersionPublish
from ...models.api_error import ApiError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    version_id: str,
    *,
    body: AgentVersionPublish,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/admin/agent-versions/{version_id}/publish".format(
            version_id=quote(str(version_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AgentVersion | ApiError | None:
    if response.status_code == 200:
        response_200 = AgentVersion.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = ApiError.from_dict(response.json())

        return response_409

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
) -> Response[AgentVersion | ApiError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    version_id: str,
    *,
    client: AuthenticatedClient,
    body: AgentVersionPublish,
    idempotency_key: str | Unset = UNSET,
) -> Response[AgentVersion | ApiError]:
    """Publish an approved version

    Args:
        version_id (str):
        idempotency_key (str | Unset):
        body (AgentVersionPublish):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AgentVersion | ApiError]
    """

    kwargs = _get_kwargs(
        version_id=version_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    version_id: str,
    *,
    client: AuthenticatedClient,
    body: AgentVersionPublish,
    idempotency_key: str | Unset = UNSET,
) -> AgentVersion | ApiError | None:
    """Publish an approved version

    Args:
        version_id (str):
        idempotency_key (str | Unset):
        body (AgentVersionPublish):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AgentVersion | ApiError
    """

    return sync_detailed(
        version_id=version_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    version_id: str,
    *,
    client: AuthenticatedClient,
    body: AgentVersionPublish,
    idempotency_key: str | Unset = UNSET,
) -> Response[AgentVersion | ApiError]:
    """Publish an approved version

    Args:
        version_id (str):
        idempotency_key (str | Unset):
        body (AgentVersionPublish):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AgentVersion | ApiError]
    """

    kwargs = _get_kwargs(
        version_id=version_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    version_id: str,
    *,
    client: AuthenticatedClient,
    body: AgentVersionPublish,
    idempotency_key: str | Unset = UNSET,
) -> AgentVersion | ApiError | None:
    """Publish an approved version

    Args:
        version_id (str):
        idempotency_key (str | Unset):
        body (AgentVersionPublish):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AgentVersion | ApiError
    """

    return (
        await asyncio_detailed(
            version_id=version_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
