"""A client certificate, as an administrator uploads it to sign the application in without a secret: a PEM file
holding the certificate and its private key, or a PKCS#12 (.pfx) file with its password. Plain Python.

Microsoft Entra ID checks the client assertion that msal signs with the private key against the certificate
uploaded to the application registration, found by its SHA-1 thumbprint.
"""
import datetime
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from . import errors

#: How long before its end a certificate is said to expire soon.
EXPIRY_WARNING = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Certificate:
    private_key: str = field(repr=False)  # PEM, PKCS#8, unencrypted: kept where only administrators read it
    certificate: str  # PEM
    thumbprint: str  # SHA-1, hexadecimal, as Microsoft Entra ID shows it
    subject: str
    not_after: datetime.datetime  # naive UTC

    def credential(self):
        """What ``msal.ConfidentialClientApplication`` takes as ``client_credential``."""
        return {"private_key": self.private_key, "thumbprint": self.thumbprint}

    def expired(self, now):
        return self.not_after <= now

    def expires_soon(self, now):
        return now < self.not_after <= now + EXPIRY_WARNING


def load_certificate(data, password=None):
    """The ``Certificate`` of an uploaded file (bytes); raises ``errors.CertificateUnreadable``."""
    secret = password.encode("utf-8") if password else None
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, secret)
            certificate = x509.load_pem_x509_certificate(data)
        else:
            key, certificate, _chain = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError) as error:
        raise errors.CertificateUnreadable(detail=str(error).splitlines()[0] if str(error) else type(error).__name__)
    if key is None or certificate is None:
        raise errors.CertificateUnreadable(detail="the file must hold both the certificate and its private key")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise errors.CertificateUnreadable(detail="the private key is not an RSA key")
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise errors.CertificateUnreadable(detail="the private key is not the certificate's")
    return Certificate(
        private_key=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode("ascii"),
        certificate=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        thumbprint=certificate.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303  # nosec B303  # the x5t thumbprint Entra ID uses
        subject=certificate.subject.rfc4514_string(),
        not_after=certificate.not_valid_after_utc.replace(tzinfo=None),
    )
