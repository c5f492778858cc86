"""Client certificates as an administrator makes them for an application registration (a self-signed RSA
certificate and its key): for the tests and the demo, which upload them to the peer and to Odoo."""
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


def make_certificate(common_name="Bookings invoicing", days=365, starts=None):
    """``(certificate, pem, pfx)``: a ``cryptography`` certificate valid ``days`` from ``starts`` (now by default),
    a PEM file holding it and its private key, and a PKCS#12 file of both protected by the password ``pfx-pw``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    starts = starts or datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(starts)
                   .not_valid_after(starts + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()) + certificate.public_bytes(serialization.Encoding.PEM)
    pfx = pkcs12.serialize_key_and_certificates(b"bookings", key, certificate, None,
                                                serialization.BestAvailableEncryption(b"pfx-pw"))
    return certificate, pem, pfx
