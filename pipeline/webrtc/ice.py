"""ICE configuration: which STUN/TURN servers a peer uses and which addresses it may touch.

aiortc asks a public STUN server unless it is given an explicit empty list, and
aioice gathers a host candidate on every interface except loopback. Production
wants its own STUN/TURN servers; tests and locked-down hosts want loopback
only. :class:`IcePolicy` holds both choices; :func:`apply_host_addresses` is the
one process-wide hook aioice offers for the second.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

_CANDIDATE_LINE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ \S+", re.IGNORECASE)
_original_host_addresses = aioice.ice.get_host_addresses


class IceConfigError(ValueError):
    """An ICE setting cannot be used; the message names it."""


@dataclass(frozen=True)
class IcePolicy:
    """STUN/TURN servers, local host addresses and the remote networks ICE may reach."""

    servers: tuple[str, ...] = ()
    """``stun:host:port`` / ``turn:host:port?transport=udp`` URLs; empty: no server at all."""
    username: str | None = None
    credential: str | None = None
    host_addresses: tuple[str, ...] = ()
    """Local addresses to gather host candidates on; empty: every interface (aioice's default)."""
    remote_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())
    """Remote candidates outside these networks are ignored; empty: any."""

    @classmethod
    def from_settings(
        cls,
        servers: Sequence[str],
        username: str | None,
        credential: str | None,
        host_addresses: Sequence[str],
        remote_networks: Sequence[str],
    ) -> IcePolicy:
        for url in servers:
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise IceConfigError(f"ice_servers: {url!r} is not a stun:, stuns:, turn: or turns: URL")
        for address in host_addresses:
            _parse_address(address, "ice_host_addresses")
        try:
            networks = tuple(ipaddress.ip_network(net, strict=False) for net in remote_networks)
        except ValueError as error:
            raise IceConfigError(f"ice_remote_networks: {error}") from None
        return cls(tuple(servers), username, credential, tuple(host_addresses), networks)

    def rtc_configuration(self) -> RTCConfiguration:
        """aiortc's configuration: always an explicit list, so no public default server sneaks in."""
        if not self.servers:
            return RTCConfiguration(iceServers=[])
        return RTCConfiguration(
            iceServers=[RTCIceServer(urls=list(self.servers), username=self.username, credential=self.credential)]
        )

    def browser_servers(self) -> list[dict[str, Any]]:
        """The servers as a browser's ``RTCPeerConnection`` takes them."""
        if not self.servers:
            return []
        entry: dict[str, Any] = {"urls": list(self.servers)}
        if self.username is not None:
            entry.update(username=self.username, credential=self.credential or "")
        return [entry]

    def remote_allowed(self, address: str) -> bool:
        if not self.remote_networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False  # an mDNS name would need multicast resolution outside the allowed networks
        return any(ip in network for network in self.remote_networks)

    def filter_offer(self, sdp: str) -> str:
        """The SDP without remote candidates outside :attr:`remote_networks`."""
        if not self.remote_networks:
            return sdp
        kept = []
        for line in sdp.splitlines():
            match = _CANDIDATE_LINE.match(line)
            if match is not None and not self.remote_allowed(match.group(1)):
                continue
            kept.append(line)
        return "\r\n".join(kept) + "\r\n"


def apply_host_addresses(addresses: Sequence[str]) -> None:
    """Gather host candidates only on ``addresses`` (empty: restore aioice's every-interface default).

    aioice has no per-connection option for this, so it is process-wide: one
    engine process has one network policy.
    """
    chosen = list(addresses)
    if not chosen:
        aioice.ice.get_host_addresses = _original_host_addresses
        return

    def fixed_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = fixed_host_addresses


def _parse_address(address: str, setting: str) -> None:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise IceConfigError(f"{setting}: {address!r} is not an IP address") from None
