"""SSRF: a webhook URL that leads to this machine, the cloud's metadata service or the private
network is refused when it is saved and again when a delivery is due; nothing is sent to it and
no answer of it is shown. With private addresses allowed (development), the same URLs work,
and the request goes to the address resolved once, with the name kept in ``Host``."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from migrations_ui.audit.netguard import UnsafeDestination, address_problem, pinned_request, resolve
from migrations_ui.audit.outbound import DeliveryFailed, DeliveryGaveUp, deliver
from migrations_ui.models.integrations import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.audit.conftest import make_proposal

SECRET_BODY = "internal secret answer"


def loopback_name() -> str:
    """A name other than ``localhost`` that resolves to a loopback address (the machine's own
    name usually does, through /etc/hosts)."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
    except socket.gaierror:
        pytest.skip(f"the host name {name!r} does not resolve here")
    if not all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos):
        pytest.skip(f"the host name {name!r} does not resolve to a loopback address here")
    return name


# Each address family, as a URL that would reach a receiver on 127.0.0.1:{port} (or its
# neighbours on the same machine and network) if nothing refused it.
FAMILIES = {
    "ipv4 loopback": "http://127.0.0.1:{port}/hook",
    "ipv4 loopback, decimal": "http://2130706433:{port}/hook",
    "ipv4 loopback, hex and short": "http://0x7f.1:{port}/hook",
    "unspecified": "http://0.0.0.0:{port}/hook",
    "localhost": "http://localhost:{port}/hook",
    "a name resolving to loopback": "http://{name}:{port}/hook",
    "ipv6 loopback": "http://[::1]:{port}/hook",
    "ipv4-mapped ipv6": "http://[::ffff:127.0.0.1]:{port}/hook",
    "private 10/8": "http://10.0.0.7:6379/",
    "private 192.168/16": "http://192.168.1.1/admin",
    "link-local metadata": "http://169.254.169.254/latest/meta-data/",
    "ipv6 link-local": "http://[fe80::1]/",
    "ipv6 unique local": "http://[fd00::1]/",
    "multicast": "http://224.0.0.1/",
}


def url_of(family: str, port: int) -> str:
    template = FAMILIES[family]
    name = loopback_name() if "{name}" in template else ""
    return template.format(port=port, name=name)


def test_every_non_public_address_family_is_refused_by_the_guard() -> None:
    refused = {
        "127.0.0.1": "loopback address",
        "10.1.2.3": "private address",
        "172.16.0.1": "private address",
        "192.168.0.1": "private address",
        "169.254.169.254": "link-local address",
        "0.0.0.0": "unspecified address",
        "224.0.0.251": "multicast address",
        "100.64.0.1": "non-public address",
        "240.0.0.1": "reserved address",
        "::1": "loopback address",
        "::": "unspecified address",
        "fe80::1": "link-local address",
        "fd12:3456::1": "private address",
        "ff02::1": "multicast address",
        "::ffff:127.0.0.1": "loopback IPv4 address written as IPv6",
        "::ffff:169.254.169.254": "link-local IPv4 address written as IPv6",
        "::7f00:1": "loopback IPv4 address written as IPv6",  # IPv4-compatible
        "2002:a00:1::": "private IPv4 address written as IPv6",  # 6to4 of 10.0.0.1
        "64:ff9b::a9fe:a9fe": "link-local IPv4 address written as IPv6",  # NAT64
    }
    assert {a: address_problem(ipaddress.ip_address(a)) for a in refused} == refused
    for public in ("93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert address_problem(ipaddress.ip_address(public)) is None, public


def test_names_of_this_machine_are_refused_before_any_lookup() -> None:
    for url in ("http://localhost/", "http://LOCALHOST./", "http://api.localhost:8080/x"):
        with pytest.raises(UnsafeDestination, match="is this machine"):
            resolve(url, allow_private=False)
    with pytest.raises(UnsafeDestination, match="http:// or https://"):
        resolve("file:///etc/passwd", allow_private=False)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_delivery_to_a_non_public_address_is_refused_and_shows_nothing(
    family, tenant, alice, receiver, settings, django_capture_on_commit_callbacks
):
    hook = receiver([200])
    settings.WEBHOOK_ALLOW_PRIVATE = False  # the default: the receiver is not reachable
    port = int(hook.url.rsplit(":", 1)[1].split("/")[0])
    # Created straight in the table: saved before DNS changed, or by a path with no form.
    WebhookEndpoint.objects.create(tenant=tenant, url=url_of(family, port), secret="s")
    with django_capture_on_commit_callbacks(execute=True):
        make_proposal(tenant, alice)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(DeliveryGaveUp):
        deliver(delivery.pk)  # the first attempt is the last: no retry can make it public
    delivery.refresh_from_db()
    [attempt] = delivery.attempts
    assert delivery.status == DeliveryStatus.FAILED
    assert attempt["status_code"] is None and attempt["response"] == ""
    assert attempt["error"].startswith("Refused: the URL ")
    assert "public addresses only" in attempt["error"]
    assert hook.requests == []


@pytest.mark.parametrize(
    "family",
    ["ipv4 loopback", "ipv4 loopback, decimal", "localhost", "a name resolving to loopback"],
)
def test_with_private_addresses_allowed_the_same_urls_reach_the_receiver(
    family, tenant, alice, receiver, settings, django_capture_on_commit_callbacks
):
    hook = receiver([200])
    assert settings.WEBHOOK_ALLOW_PRIVATE is True
    port = int(hook.url.rsplit(":", 1)[1].split("/")[0])
    url = url_of(family, port)
    WebhookEndpoint.objects.create(tenant=tenant, url=url, secret="s")
    with django_capture_on_commit_callbacks(execute=True):
        make_proposal(tenant, alice)
    assert deliver(WebhookDelivery.objects.get().pk) == DeliveryStatus.SUCCEEDED
    [request] = hook.requests
    # Connected to the resolved address; the receiver still sees the name it was given.
    assert request.headers["Host"] == url.split("/")[2]
    assert WebhookDelivery.objects.get().attempts[0]["response"] == "answer 1: 200"


def test_the_request_goes_to_the_address_resolved_once_with_the_name_kept() -> None:
    name = loopback_name()
    destination = resolve(f"https://{name}:8443/in?x=1", allow_private=True)
    assert destination.address == "127.0.0.1"
    url, headers, extensions = pinned_request(destination)
    # The URL names the address (no second lookup); Host and the TLS server name keep the
    # name, so the certificate is checked against it.
    assert str(url) == "https://127.0.0.1:8443/in?x=1"
    assert headers == {"Host": f"{name}:8443"} and extensions == {"sni_hostname": name}
    v6 = pinned_request(resolve("http://[::1]:9/x", allow_private=True))
    assert str(v6[0]) == "http://[::1]:9/x" and v6[2] == {}


def test_a_redirect_is_refused_not_followed(
    tenant, alice, receiver, django_capture_on_commit_callbacks
):
    inside = receiver([200])
    hook = receiver([307], redirect_to=inside.url)
    WebhookEndpoint.objects.create(tenant=tenant, url=hook.url, secret="s")
    with django_capture_on_commit_callbacks(execute=True):
        make_proposal(tenant, alice)
    with pytest.raises(DeliveryFailed):
        deliver(WebhookDelivery.objects.get().pk)
    [attempt] = WebhookDelivery.objects.get().attempts
    assert attempt["status_code"] == 307 and "redirects are not followed" in attempt["error"]
    assert len(hook.requests) == 1 and inside.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://localhost:6379/",
        "http://10.0.0.7/",
    ],
)
def test_saving_a_url_to_a_non_public_address_is_refused(url, carol, tenant, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    client = Client()
    client.force_login(carol)
    add = reverse("admin:migrations_ui_webhookendpoint_add")
    data = {"tenant": tenant.pk, "url": url, "secret": "s3cret", "is_active": "on"}
    response = client.post(add, data)
    assert response.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert "public addresses only" in response.content.decode()
    assert "SB_WEBHOOK_ALLOW_PRIVATE=1" in response.content.decode()


def test_a_name_resolving_to_loopback_is_refused_without_showing_its_address(
    settings: Any,
) -> None:
    name = loopback_name()
    with pytest.raises(UnsafeDestination) as refused:
        resolve(f"https://{name}/hook", allow_private=False)
    message = str(refused.value)
    assert message.startswith(f"'{name}' resolves to a loopback address")
    assert "127.0.0.1" not in message  # the address of a name would map the inside
    assert resolve(f"https://{name}/hook", allow_private=True).address == "127.0.0.1"


def test_the_model_refuses_the_url_and_allows_it_in_development(tenant: Any, settings: Any) -> None:
    endpoint = WebhookEndpoint(tenant=tenant, url="http://127.0.0.1:8000/admin/", secret="s")
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()
    assert refused.value.message_dict == {
        "url": [
            "This URL 127.0.0.1 is a loopback address: webhooks are sent to public addresses "
            "only (to allow private ones for development, the operator sets "
            "SB_WEBHOOK_ALLOW_PRIVATE=1)."
        ]
    }
    settings.WEBHOOK_ALLOW_PRIVATE = True
    endpoint.full_clean()
    # A name with no address yet is accepted: it leads nowhere, and delivery checks again.
    settings.WEBHOOK_ALLOW_PRIVATE = False
    WebhookEndpoint(tenant=tenant, url="https://hooks.invalid/in", secret="s").full_clean()
