"""A TLS front for moto, so the benchmark's functions speak TLS to their AWS
endpoints as they do on Lambda (a handshake per connection, certificate
verification, the TLS library's first-use costs).

It makes a throwaway certificate authority and a server certificate for
127.0.0.1 and localhost signed by it, writes the authority's certificate to
CA_FILE (the functions trust it through SSL_CERT_FILE, AWS_CA_BUNDLE or
NODE_EXTRA_CA_CERTS), then listens on each PORT and forwards every decrypted
connection to moto's plain HTTP port UPSTREAM. Several ports stand for several
endpoints: DynamoDB, SES and Secrets Manager are three hosts on AWS, so a
function opens (and pays for) one connection to each, and so it must here.

The key is ECDSA P-256 and TLS 1.3 is preferred, as AWS endpoints offer.
Runs outside the function's CPU share: its own cost is moto's side of the wire.

Usage: python3 tls_front.py CA_FILE UPSTREAM PORT [PORT...]
"""

import asyncio
import datetime
import ipaddress
import os
import ssl
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def certificates(ca_file):
    """Writes the CA certificate to ca_file; returns an SSL context serving a
    leaf it signed."""
    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=7))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rust-aws bench test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(valid[0]).not_valid_after(valid[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid[0]).not_valid_after(valid[1])
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    tmp = ca_file + ".tmp"
    with open(tmp, "wb") as f:
        f.write(pem(ca))
    os.replace(tmp, ca_file)  # readers never see half a file
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as d:
        chain, keyfile = os.path.join(d, "chain.pem"), os.path.join(d, "key.pem")
        with open(chain, "wb") as f:
            f.write(pem(leaf) + pem(ca))
        with open(keyfile, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        ctx.load_cert_chain(chain, keyfile)
    return ctx


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # already gone
            pass


async def main():
    ca_file, upstream, ports = sys.argv[1], int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
    ctx = certificates(ca_file)

    async def serve(client_r, client_w):
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))

    servers = [await asyncio.start_server(serve, "127.0.0.1", p, ssl=ctx, backlog=256)
               for p in ports]
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main())
