"""Self-signed X.509 certificates for the stand-ins (TLS servers, signing keys, app credentials)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID


def self_signed(
    key: CertificateIssuerPrivateKeyTypes,
    common_name: str,
    *,
    days: int,
    addresses: Sequence[str] = (),
) -> x509.Certificate:
    """A SHA-256 certificate for `key`, issued by itself, valid from a day ago for `days` days.

    `addresses` (IP literals or DNS names, in order) become a SubjectAlternativeName; such a server
    certificate is also marked as a CA so that clients can trust it directly.
    """
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
    )
    if addresses:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(address) for address in addresses]), critical=False
        ).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256())


def _general_name(address: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(address))
    except ValueError:
        return x509.DNSName(address)


__all__ = ["self_signed"]
