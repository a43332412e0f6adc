"""A throwaway PKI (root, intermediate, leaf) for signing tests, and openssl's verdict."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from autoconf.formats import mobileconfig

if TYPE_CHECKING:
    from pathlib import Path

NOW = dt.datetime.now(dt.UTC)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    """A certificate for ``subject`` signed by ``issuer_key``, valid for a day."""
    usage = x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


@dataclass(frozen=True)
class Pki:
    """Files of a test PKI and the signer they make."""

    ca_pem: Path
    cert_pem: Path
    key_pem: Path
    chain_pem: Path
    signer: mobileconfig.Signer


def make_pki(folder: Path) -> Pki:
    """A root CA, an intermediate and a leaf signer, written as PEM files into ``folder``."""
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = certificate("Test Root CA", root_key, "Test Root CA", root_key, ca=True)
    mid = certificate("Test Intermediate", mid_key, "Test Root CA", root_key, ca=True)
    leaf = certificate("profiles.example.com", leaf_key, "Test Intermediate", mid_key, ca=False)
    pem = serialization.Encoding.PEM
    files = {
        "ca.pem": root.public_bytes(pem),
        "cert.pem": leaf.public_bytes(pem),
        "chain.pem": mid.public_bytes(pem),
        "key.pem": leaf_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return Pki(
        folder / "ca.pem",
        folder / "cert.pem",
        folder / "key.pem",
        folder / "chain.pem",
        mobileconfig.Signer(certificate=leaf, key=leaf_key, chain=(mid,)),
    )


def openssl_verify(signed: bytes, ca_pem: Path, folder: Path) -> subprocess.CompletedProcess[bytes]:
    """Run the real `openssl cms -verify`; the embedded content lands in folder/content.plist."""
    signed_path = folder / "profile.signed.mobileconfig"
    signed_path.write_bytes(signed)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-CAfile", str(ca_pem), "-inform", "DER",
         "-in", str(signed_path), "-out", str(folder / "content.plist")],
        capture_output=True, check=False,
    )  # fmt: skip
