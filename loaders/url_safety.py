"""Which web addresses a fetch may reach, for URLs typed by someone other than the machine's owner.

A URL is refused unless its scheme is http or https and every address its host resolves to is a
public one: loopback, private, link-local (169.254.169.254, the cloud metadata address), multicast,
reserved, unspecified and other non-global addresses are refused, whatever the spelling
(`0x7f000001`, `127.1`, `2130706433`, `[::1]`, `[::ffff:127.0.0.1]`, a name that resolves to one).
The operator allows hosts or networks with a policy (RAG_APP_URL_ALLOW in the settings).

The check runs inside the connection itself (`safe_session`): the host is resolved, every address
checked, and the socket connected to a checked address, for every request the session makes. So
each redirect hop is checked before anything there is contacted, and a name that resolves to a
public address for the check and to a private one for the connection (DNS rebinding) cannot slip
through. `check_url` is the same check without connecting, for a clear early error.

    >>> policy = UrlPolicy.parse("wiki.corp.example, 10.20.0.0/16, 127.0.0.1:8080")
    >>> check_url("http://0x7f000001/admin", UrlPolicy())          # doctest: +SKIP
    UnsafeUrlError: http://0x7f000001/admin: refused: 127.0.0.1 is a loopback address; ...
    >>> session = safe_session(policy)   # a requests.Session that refuses the rest  # doctest: +SKIP

Environment proxies (HTTP_PROXY...) are not used by a safe session: the address checked must be
the address connected to.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass
from typing import Iterable, Union
from urllib.parse import urlsplit

from loaders.errors import LoaderError

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

ALLOW_SETTING = "RAG_APP_URL_ALLOW"
SCHEMES = ("http", "https")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrlError(LoaderError):
    """A URL (or a redirect it took) points at an address the policy refuses."""


@dataclass(frozen=True)
class _Rule:
    host: str | None  # a lower-case name, or "*.example.com" for its subdomains
    network: IPNetwork | None
    port: int | None  # None: any port

    def matches(self, host: str, port: int, address: IPAddress | None) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            if self.host.startswith("*."):
                return host.endswith(self.host[1:])
            return host == self.host
        return address is not None and address in self.network


@dataclass(frozen=True)
class UrlPolicy:
    """Hosts and networks the operator allows in spite of their addresses. Empty: public only.

    Entries (comma- or space-separated in `parse`): a host name (`wiki.corp.example`), its
    subdomains (`*.corp.example`), an IP address, a CIDR network (`10.20.0.0/16`), or any of the
    first three with a port (`wiki.corp.example:8080`, `127.0.0.1:8080`, `[::1]:8080`).
    """

    rules: tuple[_Rule, ...] = ()

    @classmethod
    def parse(cls, spec: str | Iterable[str] | None) -> UrlPolicy:
        """Raises ValueError naming the entry that is not a host, address or network."""
        if spec is None:
            return cls()
        entries = spec.replace(",", " ").split() if isinstance(spec, str) else [e for item in spec for e in str(item).replace(",", " ").split()]
        return cls(tuple(_parse_rule(entry) for entry in entries))

    def allows(self, host: str, port: int, address: IPAddress | None = None) -> bool:
        host = host.lower().rstrip(".")
        return any(rule.matches(host, port, address) for rule in self.rules)


def _parse_rule(entry: str) -> _Rule:
    text = entry.strip().lower()
    bad = ValueError(
        f"invalid {ALLOW_SETTING} entry {entry!r}; use a host name, *.domain, an IP address, "
        "a CIDR network such as 10.0.0.0/8, or one of them with :PORT"
    )
    if "/" in text:
        try:
            return _Rule(None, ipaddress.ip_network(text, strict=False), None)
        except ValueError:
            raise bad from None
    host, port = text, None
    if text.startswith("["):  # [v6] or [v6]:port
        inside, _, rest = text[1:].partition("]")
        host = inside
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise bad
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        if not port_text.isdigit():
            raise bad
        port = int(port_text)
    if port is not None and not 0 < port < 65536:
        raise bad
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.rstrip(".")
        label = name[2:] if name.startswith("*.") else name
        if not label or not all(part and all(c.isalnum() or c in "-_" for c in part) for part in label.split(".")):
            raise bad from None
        return _Rule(name, None, port)
    return _Rule(None, ipaddress.ip_network(address), port)


def refusal(address: IPAddress) -> str | None:
    """Why an address is not public ("a loopback address", ...), or None for a public one.

    IPv4 addresses inside IPv6 ones (IPv4-mapped, NAT64, 6to4) are judged by their IPv4 address.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded)
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def resolve_checked(host: str, port: int, policy: UrlPolicy) -> list[str]:
    """The addresses of `host` (strings, in resolver order), every one of them checked.

    Raises UnsafeUrlError when any address is refused and the policy does not allow the host or
    that address; socket.gaierror when the name does not resolve (a connection error, as usual).
    """
    host = host.strip("[]")
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if policy.allows(host, port):
        return addresses
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
        why = refusal(address)
        if why is not None and not policy.allows(host, port, address):
            shown = host if host == str(address) else f"{host} ({address})"
            raise UnsafeUrlError(
                host_port(host, port),
                f"refused to fetch from {shown}: {why}, which only the server's operator can allow "
                f"(e.g. {ALLOW_SETTING}={_allow_example(host, address, port)})",
            )
    return addresses


def host_port(host: str, port: int) -> str:
    """"host:port", IPv6 addresses in brackets: how an UnsafeUrlError from a connection names its target."""
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _allow_example(host: str, address: IPAddress, port: int) -> str:
    """The allow-list entry to suggest: the name for a host name, the address for any numeric spelling."""
    try:
        socket.inet_aton(host)  # also accepts 127.1, 0x7f000001, 2130706433
    except OSError:
        if ":" not in host:
            return host
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def check_url(url: str, policy: UrlPolicy) -> None:
    """Refuse `url` (UnsafeUrlError; LoaderError when its host does not resolve) without connecting."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeUrlError(url, "not a valid URL; check the address") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrlError(url, f"unsupported URL scheme {scheme or '(none)'!r}; only http:// and https:// URLs are fetched")
    if not parts.hostname:
        raise UnsafeUrlError(url, "the URL has no host; pass an http:// or https:// URL")
    try:
        resolve_checked(parts.hostname, port or (443 if scheme == "https" else 80), policy)
    except UnsafeUrlError as exc:
        raise UnsafeUrlError(url, exc.reason) from None
    except (socket.gaierror, UnicodeError) as exc:
        raise LoaderError(url, f"cannot resolve the host ({exc}); check the address and your network") from None


def safe_session(policy: UrlPolicy):
    """A `requests.Session` whose every connection (redirects included) goes through
    `resolve_checked` and then to a checked address; environment proxies are not used."""
    import requests

    session = requests.Session()
    session.trust_env = False
    adapter = _adapter_class()(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@functools.cache
def _adapter_class():
    """Built on first use, so importing this module does not import requests and urllib3."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    class CheckedConnect:
        policy: UrlPolicy

        def _new_conn(self):
            host = self._dns_host
            failure = None
            for address in resolve_checked(host, self.port, self.policy):
                self._dns_host = address  # connect to the address just checked, not a fresh lookup
                try:
                    return super()._new_conn()
                except (NewConnectionError, ConnectTimeoutError) as exc:
                    failure = exc
                finally:
                    self._dns_host = host  # TLS checks the certificate against the name
            raise failure

    class SafeAdapter(HTTPAdapter):
        def __init__(self, policy: UrlPolicy):
            self.policy = policy  # before HTTPAdapter.__init__, which builds the pool manager
            super().__init__()

        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            http = type("CheckedHTTPConnection", (CheckedConnect, HTTPConnection), {"policy": self.policy})
            https = type("CheckedHTTPSConnection", (CheckedConnect, HTTPSConnection), {"policy": self.policy})
            self.poolmanager.pool_classes_by_scheme = {
                "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
                "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
            }

    return SafeAdapter
