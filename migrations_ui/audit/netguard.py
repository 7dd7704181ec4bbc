"""Where an outbound webhook may go: a public address, resolved once and connected to as it was.

A tenant admin names the URL, the server sends the request: without this guard the server
would POST (and show the answer of) anything it can reach, such as 127.0.0.1, the cloud's
metadata service at 169.254.169.254 or a Redis on the private network (SSRF). So:

- the host is resolved once, and every address it resolves to must be public: not loopback,
  private, link-local, shared (100.64/10), multicast, unspecified or reserved, also when an
  IPv6 address carries an IPv4 one (``::ffff:127.0.0.1``, 6to4, NAT64, IPv4-compatible);
- the request then goes to that resolved address (``pinned_request``): the URL's host is
  replaced by the address, the ``Host`` header and the TLS server name keep the name, so a
  DNS answer that changes between the check and the connection (DNS rebinding) changes
  nothing, and the certificate is still checked against the name;
- the check runs when the URL is saved (a clear message in the admin) and again before every
  delivery (DNS may have changed since);
- ``SB_WEBHOOK_ALLOW_PRIVATE=1`` (``settings.WEBHOOK_ALLOW_PRIVATE``) lets private addresses
  through, for development against a receiver on the same machine; off by default.

Numeric forms of a host (``2130706433``, ``0x7f.1``, ``127.1``) are resolved by the system's
resolver like any name, so they are judged by the address they stand for.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that mean this machine whatever the resolver says (RFC 6761 reserves *.localhost).
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HINT = (
    "webhooks are sent to public addresses only (to allow private ones for development, "
    "the operator sets SB_WEBHOOK_ALLOW_PRIVATE=1)"
)


class UnsafeDestination(ValueError):
    """The URL leads to an address a webhook must not reach; the message says why."""


class Unresolvable(ValueError):
    """The host has no address now (it may have one later)."""


@dataclass(frozen=True)
class Destination:
    """A URL and the one address its requests go to."""

    url: httpx.URL
    address: str

    @property
    def host_header(self) -> str:
        """``name[:port]`` as the URL says it: the receiver's virtual host."""
        return self.url.netloc.decode("ascii")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64, IPv4-compatible), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    packed = ip.packed
    if ip in _NAT64 or (packed[:12] == bytes(12) and int(ip) > 1):
        return ipaddress.IPv4Address(packed[12:])
    return None


def address_problem(ip: IPAddress) -> str | None:
    """What kind of non-public address ``ip`` is ("loopback address", …), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # Judged by the IPv4 address it reaches (the IPv6 range itself is "reserved").
            inner = address_problem(embedded)
            return (
                None
                if inner is None
                else inner.replace(" address", " IPv4 address written as IPv6")
            )
    # Most specific first: 127.0.0.1 is also "private" to the ipaddress module.
    for attribute, kind in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attribute):
            return f"{kind} address"
    if not ip.is_global:
        return "non-public address"  # e.g. the carrier-grade NAT range 100.64.0.0/10
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(url: str, *, allow_private: bool) -> Destination:
    """Resolve ``url``'s host once; the address requests must go to.

    Raises ``UnsafeDestination`` when the URL cannot be sent to (not http(s), no host, or an
    address that is not public while ``allow_private`` is off), ``Unresolvable`` when the
    host has no address.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeDestination(f"is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeDestination("must start with http:// or https://")
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded, IPv6 without brackets
    if not host:
        raise UnsafeDestination("has no host: write https://receiver.example.com/path")
    name = host.rstrip(".").lower()
    if not allow_private and (name in _LOCAL_NAMES or name.endswith(".localhost")):
        raise UnsafeDestination(f"'{host}' is this machine: {_HINT}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise Unresolvable(f"'{host}' does not resolve ({exc})") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        if not addresses:
            raise Unresolvable(f"'{host}' has no address")
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem is None:
                continue
            kind = f"{'an' if problem[0] in 'aeiou' else 'a'} {problem}"
            # A name's address is not shown: the messages would map the internal network.
            what = f"{host} is {kind}" if literal else f"'{host}' resolves to {kind}"
            raise UnsafeDestination(f"{what}: {_HINT}")
    return Destination(url=parsed, address=str(addresses[0]))


def pinned_request(destination: Destination) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """(URL, headers, extensions) that send a request to the resolved address: the address in
    the URL, the name in ``Host`` and, for https, in the TLS server name (SNI), against which
    the certificate is verified."""
    url = destination.url.copy_with(host=destination.address)
    named = _literal(destination.url.host) is None
    extensions = {"sni_hostname": destination.url.host} if url.scheme == "https" and named else {}
    return url, {"Host": destination.host_header}, extensions
