"""Fetching a URL for upload without becoming a proxy into the server's network (SSRF guard).

Rules: http/https only; the host is resolved once and every address is checked (loopback,
private, link-local, CGNAT 100.64/10, multicast, reserved, unspecified, cloud metadata), including
IPv4 hidden in IPv6 (IPv4-mapped ::ffff:0:0/96, 6to4 2002::/16, Teredo 2001::/32, NAT64
64:ff9b::/96); the connection goes to the address that was checked (no second DNS lookup);
redirects are followed by hand and each is checked again; a byte cap and a deadline bound it.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from ab2n.errors import InvalidArgument, MediaTooLarge

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class BlockedAddress(InvalidArgument):
    """The URL points at an address the server must not reach."""


def embedded_ipv4(ip: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    out: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped:
        out.append(ip.ipv4_mapped)
    if ip.sixtofour:
        out.append(ip.sixtofour)
    if ip.teredo:
        out.extend(ip.teredo)
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def is_public(ip: Address) -> bool:
    """Whether ``ip`` (and any IPv4 inside it) is a public unicast address."""
    for addr in [ip, *embedded_ipv4(ip)]:
        if (
            addr in _METADATA
            or addr.is_loopback
            or addr.is_private
            or addr.is_link_local
            or addr.is_multicast
            or addr.is_reserved
            or addr.is_unspecified
            or (isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT)
            or (isinstance(addr, ipaddress.IPv6Address) and (addr.is_site_local or addr in _NAT64_LOCAL))
        ):
            return False
    if isinstance(ip, ipaddress.IPv6Address) and (ip.teredo or ip.sixtofour):
        return False  # tunnels reach wherever the embedded address says; refuse them outright
    return True


def resolve_checked(url: str, allow: list[str]) -> tuple[str, str, int, Address]:
    """(scheme, host, port, the one checked address to connect to), or raise BlockedAddress."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port out of 0..65535, a bad IPv6 literal
        raise BlockedAddress("the URL is malformed") from None
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress("only http and https URLs can be fetched")
    if not host:
        raise BlockedAddress("the URL has no host")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise BlockedAddress(f"cannot resolve {host}") from None
    addrs = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addrs:
        raise BlockedAddress(f"cannot resolve {host}")
    for a in addrs:
        allowed = f"{a}:{port}" in allow or (a.version == 6 and f"[{a}]:{port}" in allow)
        if not allowed and not is_public(a):
            raise BlockedAddress(f"{host} resolves to a non-public address ({a}); refusing to fetch it")
    return parts.scheme, host, port, addrs[0]


def fetch(url: str, dest: Path, *, max_bytes: int, timeout_s: float, allow: list[str]) -> tuple[Path, str]:
    """Download ``url`` to ``dest`` safely. Returns (path, file name from the URL).

    Raises:
        BlockedAddress (400): scheme, host or a redirect target is not allowed.
        MediaTooLarge (4002): more than ``max_bytes`` (the partial file is removed).
    """
    deadline = time.monotonic() + timeout_s
    current = url
    for _ in range(6):
        scheme, host, port, ip = resolve_checked(current, allow)
        parts = urlsplit(current)
        ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
        target = f"{scheme}://{ip_host}:{port}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        remaining = max(1.0, deadline - time.monotonic())
        with (
            httpx.Client(timeout=httpx.Timeout(min(30.0, remaining)), follow_redirects=False, trust_env=False) as c,
            c.stream(
                "GET",
                target,
                headers={"Host": parts.netloc.split("@")[-1]},
                extensions={"sni_hostname": host},
            ) as resp,
        ):
            if resp.status_code in (301, 302, 303, 307, 308):
                loc = resp.headers.get("location")
                if not loc:
                    raise BlockedAddress("redirect without a location")
                current = urljoin(current, loc)
                continue
            if resp.status_code != 200:
                raise InvalidArgument(f"the URL answered HTTP {resp.status_code}")
            _write_capped(resp.iter_bytes(), dest, max_bytes, deadline)
            name = Path(parts.path).name or "download"
            return dest, name
    raise BlockedAddress("too many redirects")


def _write_capped(chunks: Iterator[bytes], dest: Path, max_bytes: int, deadline: float) -> None:
    total = 0
    try:
        with dest.open("wb") as fh:
            for chunk in chunks:
                total += len(chunk)
                if total > max_bytes:
                    raise MediaTooLarge(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
                if time.monotonic() > deadline:
                    raise InvalidArgument("the download took too long")
                fh.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
