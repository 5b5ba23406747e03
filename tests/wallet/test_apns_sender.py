"""The APNs sender on the wire: HTTP/2 over TLS (ALPN h2) to a local HTTP/2 server made with the same h2
library's server side, which records what arrives as APNs would read it; and the provider token as
APNs checks it (ES256, kid and iss in place), verified here with jwcrypto, not the library that signed."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jwt

from chalicelib.wallet.apns import pass_update_push, provider_token
from chalicelib.wallet.senders import H2Sender


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def serve_once(tls_files: tuple[Path, Path], status: int) -> tuple[int, dict]:
    """A one-request HTTP/2 server on localhost answering `status`; returns (port, what it received)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    context.set_alpn_protocols(["h2"])
    listener = socket.create_server(("127.0.0.1", 0))
    received: dict = {}

    def run() -> None:
        with listener, context.wrap_socket(listener.accept()[0], server_side=True) as tls:
            conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
            conn.initiate_connection()
            tls.sendall(conn.data_to_send())
            body = b""
            while data := tls.recv(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        received["headers"] = {k.decode(): v.decode() for k, v in event.headers}
                    elif isinstance(event, h2.events.DataReceived):
                        body += event.data
                        conn.acknowledge_received_data(len(event.data), event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        received["body"] = body
                        conn.send_headers(event.stream_id, [(":status", str(status)), ("apns-id", "x")],
                                          end_stream=True)
                tls.sendall(conn.data_to_send())  # until the client closes, as a server does

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1], received


def sender_for(tls_files: tuple[Path, Path], port: int) -> H2Sender:
    context = ssl.create_default_context(cafile=str(tls_files[0]))
    return H2Sender(port=port, context=context, timeout=5)


def test_a_pass_update_push_goes_as_apns_reads_it(tls_files):
    port, received = serve_once(tls_files, 200)
    key = ec.generate_private_key(ec.SECP256R1())
    push = pass_update_push("ab" * 32, "pass.com.example.insure", provider_token("TEAM123456", "KEY1234567", key),
                            host="localhost")

    status = sender_for(tls_files, port)(push)

    assert status == 200
    headers = received["headers"]
    assert (headers[":method"], headers[":path"], headers[":scheme"]) == ("POST", "/3/device/" + "ab" * 32, "https")
    assert (headers["apns-topic"], headers["apns-push-type"]) == ("pass.com.example.insure", "background")
    assert json.loads(received["body"]) == {}
    scheme, _, token = headers["authorization"].partition(" ")
    public = jwk.JWK.from_pem(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo))
    checked = jwt.JWT(jwt=token, key=public, algs=["ES256"])
    assert scheme == "bearer" and json.loads(checked.header)["kid"] == "KEY1234567"
    assert json.loads(checked.claims)["iss"] == "TEAM123456"


def test_apns_saying_the_device_is_gone_comes_back_as_410(tls_files):
    port, _ = serve_once(tls_files, 410)
    push = pass_update_push("cd" * 32, "pass.com.example.insure", "token", host="localhost")

    assert sender_for(tls_files, port)(push) == 410


def test_the_provider_token_is_reused_within_50_minutes_and_renewed_after():
    key = ec.generate_private_key(ec.SECP256R1())
    first = provider_token("TEAMREUSE1", "KEYREUSE01", key, now=1_000_000.0)

    assert provider_token("TEAMREUSE1", "KEYREUSE01", key, now=1_000_000.0 + 49 * 60) == first
    assert provider_token("TEAMREUSE1", "KEYREUSE01", key, now=1_000_000.0 + 51 * 60) != first
