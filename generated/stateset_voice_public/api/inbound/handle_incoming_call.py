from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.twilio_voice_webhook import TwilioVoiceWebhook
from ...types import Response


def _get_kwargs(
    *,
    body: TwilioVoiceWebhook,
    x_twilio_signature: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Twilio-Signature"] = x_twilio_signature

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/incoming-call",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 403:
        response_403 = response.text
        return response_403

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: TwilioVoiceWebhook,
    x_twilio_signature: str,
) -> Response[str]:
    """Receive a signed Twilio inbound call

     Twilio's voice webhook for numbers routed to StateSet Voice. The request must carry a valid
    `X-Twilio-Signature` (HMAC-SHA1 of the full URL and sorted POST parameters, keyed with the Twilio
    auth token). The response is TwiML that connects the call to the realtime media stream of the routed
    agent.

    Args:
        x_twilio_signature (str):
        body (TwilioVoiceWebhook): Twilio's voice webhook parameters (form-encoded), as Twilio
            posts them for an inbound call.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[str]
    """

    kwargs = _get_kwargs(
        body=body,
        x_twilio_signature=x_twilio_signature,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: TwilioVoiceWebhook,
    x_twilio_signature: str,
) -> str | None:
    """Receive a signed Twilio inbound call

     Twilio's voice webhook for numbers routed to StateSet Voice. The request must carry a valid
    `X-Twilio-Signature` (HMAC-SHA1 of the full URL and sorted POST parameters, keyed with the Twilio
    auth token). The response is TwiML that connects the call to the realtime media stream of the routed
    agent.

    Args:
        x_twilio_signature (str):
        body (TwilioVoiceWebhook): Twilio's voice webhook parameters (form-encoded), as Twilio
            posts them for an inbound call.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        str
    """

    return sync_detailed(
        client=client,
        body=body,
        x_twilio_signature=x_twilio_signature,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: TwilioVoiceWebhook,
    x_twilio_signature: str,
) -> Response[str]:
    """Receive a signed Twilio inbound call

     Twilio's voice webhook for numbers routed to StateSet Voice. The request must carry a valid
    `X-Twilio-Signature` (HMAC-SHA1 of the full URL and sorted POST parameters, keyed with the Twilio
    auth token). The response is TwiML that connects the call to the realtime media stream of the routed
    agent.

    Args:
        x_twilio_signature (str):
        body (TwilioVoiceWebhook): Twilio's voice webhook parameters (form-encoded), as Twilio
            posts them for an inbound call.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[str]
    """

    kwargs = _get_kwargs(
        body=body,
        x_twilio_signature=x_twilio_signature,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: TwilioVoiceWebhook,
    x_twilio_signature: str,
) -> str | None:
    """Receive a signed Twilio inbound call

     Twilio's voice webhook for numbers routed to StateSet Voice. The request must carry a valid
    `X-Twilio-Signature` (HMAC-SHA1 of the full URL and sorted POST parameters, keyed with the Twilio
    auth token). The response is TwiML that connects the call to the realtime media stream of the routed
    agent.

    Args:
        x_twilio_signature (str):
        body (TwilioVoiceWebhook): Twilio's voice webhook parameters (form-encoded), as Twilio
            posts them for an inbound call.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        str
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            x_twilio_signature=x_twilio_signature,
        )
    ).parsed
