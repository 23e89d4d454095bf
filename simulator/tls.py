"""Throwaway TLS material for the simulators: a CA, a server certificate for 127.0.0.1 / localhost, and (for the
Microsoft identity platform) a client certificate credential. Made at start-up in a private temporary directory,
never reused, deleted on stop.

Clients trust the CA explicitly (`verify=<ca_file>` with `trust_env=False`), so nothing on the machine changes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsMaterial:
    directory: Path
    ca_file: Path  # PEM of the CA: what clients verify against
    cert_file: Path  # server certificate chain (server cert + CA)
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate credential registered on the simulated app: PEM with key and certificate, SHA-1 thumbprint."""

    pem_path: Path
    thumbprint: str  # hex, upper case (what the portal shows)
    certificate: x509.Certificate

    @property
    def x5t(self) -> str:
        """The JWT `x5t` header value: base64url of the SHA-1 thumbprint bytes."""
        import base64

        return base64.urlsafe_b64encode(bytes.fromhex(self.thumbprint)).decode().rstrip("=")

    @property
    def x5t_s256(self) -> str:
        import base64

        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idaudit simulator (throwaway)")])


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def make_tls(directory: Path | None = None) -> TlsMaterial:
    """A fresh CA and a server certificate valid for 127.0.0.1, ::1 and localhost (EC P-256: fast to make)."""
    d = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="idaudit-sim-tls-"))
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (x509.CertificateBuilder().subject_name(_name("idaudit simulator CA")).issuer_name(_name("idaudit simulator CA"))
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.IPAddress(ipaddress.ip_address("::1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = d / "ca.pem", d / "server.pem", d / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    cert_file.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    _write_private(key_file, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return TlsMaterial(directory=d, ca_file=ca_file, cert_file=cert_file, key_file=key_file)


def make_client_certificate(directory: Path, common_name: str = "idaudit audit app") -> ClientCertificate:
    """A self-signed RSA certificate + key in one PEM file, as an admin uploads to an app registration."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    path = Path(directory) / "client-credential.pem"
    _write_private(path, key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                   + cert.public_bytes(pem))
    thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER), usedforsecurity=False).hexdigest().upper()
    return ClientCertificate(pem_path=path, thumbprint=thumbprint, certificate=cert)
