"""The guarded outbound fetcher, against a real HTTP server on loopback."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from contactcenter.lib import fetch
from contactcenter.lib.fetch import FetchError

REAL_GETADDRINFO = socket.getaddrinfo


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Resolve the given names to the given addresses (others as usual); returns the names
    looked up, in order."""
    looked_up: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        looked_up.append(host)
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port),
            )
            for address in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def refusal(url: str) -> str:
    """The message of the FetchError a URL gets, checking it came before any connection."""
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch.fetch(url)
    assert time.monotonic() - started < 1
    return str(caught.value)


def test_it_fetches_a_body_and_its_content_type_from_an_allowed_host(key_server):
    key_server.serve("/keys", '{"keys": []}', content_type="application/jwk-set+json")

    fetched = fetch.fetch(key_server.url("/keys"), accept="application/json")

    assert fetched == fetch.Fetched(body=b'{"keys": []}', content_type="application/jwk-set+json")
    request = key_server.requests[0]
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Accept-Encoding"] == "identity"


def test_it_posts_form_fields_with_extra_headers(key_server):
    key_server.serve("/token", {"access_token": "abc"})

    fetched = fetch.post_form(
        key_server.url("/token"),
        {"grant_type": "authorization_code", "code": "a b&c"},
        headers={"Authorization": "Basic Y2xpZW50OnNlY3JldA=="},
    )

    assert fetched.body == b'{"access_token": "abc"}'
    request = key_server.requests[0]
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Authorization"] == "Basic Y2xpZW50OnNlY3JldA=="
    assert urllib.parse.parse_qs(request.body.decode()) == {
        "grant_type": ["authorization_code"],
        "code": ["a b&c"],
    }


def test_it_refuses_plain_http_to_a_host_that_is_not_allowed(key_server, settings):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = []

    assert "Use an https URL" in refusal(key_server.url("/keys"))
    assert key_server.hits["/keys"] == 0


def test_it_refuses_a_url_with_a_user_name_and_password(key_server):
    url = f"http://admin:hunter2@127.0.0.1:{key_server.port}/keys"

    message = refusal(url)

    assert "user name and password" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("localhost", "a loopback address"),
        ("127.0.0.1", "a loopback address"),
        ("[::1]", "a loopback address"),
        ("[::ffff:127.0.0.1]", "a form of 127.0.0.1, a loopback address"),
        ("[::ffff:7f00:1]", "a form of 127.0.0.1, a loopback address"),
        ("[64:ff9b::7f00:1]", "a form of 127.0.0.1, a loopback address"),
        ("[2002:7f00:1::]", "a form of 127.0.0.1, a loopback address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("[fd00:ec2::254]", "a cloud metadata address"),
        ("[::ffff:169.254.169.254]", "a cloud metadata address"),
        ("10.0.0.5", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("[fc00::1]", "a private address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("169.254.1.1", "a link-local address"),
        ("[fe80::1]", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("[ff02::1]", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104
        ("[::]", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
    ],
)
def test_it_refuses_internal_addresses_before_connecting(key_server, settings, host, reason):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = []

    message = refusal(f"https://{host}:{key_server.port}/keys")

    assert reason in message
    assert key_server.hits["/keys"] == 0


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "017700000001", "127.1", "0177.0.0.1", "0x7f.0.0.1"]
)
def test_it_refuses_ip_addresses_in_decimal_hex_or_octal_spelling(key_server, host):
    message = refusal(f"https://{host}:{key_server.port}/keys")

    assert "unusual spelling" in message
    assert key_server.hits["/keys"] == 0


def test_it_refuses_localhost_when_only_127_0_0_1_is_allowed(key_server):
    message = refusal(f"https://localhost:{key_server.port}/keys")

    assert "localhost resolves to" in message
    assert "a loopback address" in message


def test_it_refuses_the_metadata_address_even_for_an_allowed_host(settings):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["169.254.169.254", "metadata.test"]

    assert "a cloud metadata address" in refusal("http://169.254.169.254/latest/meta-data/")


def test_it_refuses_a_name_when_any_of_its_addresses_is_private(monkeypatch, settings):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = []
    fake_dns(monkeypatch, {"mixed.test": ["93.184.215.14", "10.0.0.7"]})

    message = refusal("https://mixed.test/keys")

    assert "mixed.test resolves to a private address" in message
    assert "10.0.0.7" not in message


def test_a_refusal_never_tells_the_internal_address_a_name_resolves_to(monkeypatch, settings):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = []
    fake_dns(monkeypatch, {"db.test": ["10.0.3.7"], "nat.test": ["64:ff9b::a00:307"]})

    for host in ("db.test", "nat.test"):
        message = refusal(f"https://{host}/keys")

        assert f"{host} resolves to a private address" in message
        assert "10.0.3.7" not in message and "a00:307" not in message


def test_it_connects_to_the_address_it_vetted_and_keeps_the_host_name(
    key_server, monkeypatch, settings
):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["keys.test"]
    looked_up = fake_dns(monkeypatch, {"keys.test": ["127.0.0.1"]})
    key_server.serve("/keys", "[]")

    fetch.fetch(f"http://keys.test:{key_server.port}/keys")

    assert looked_up == ["keys.test"]
    assert key_server.requests[0].headers["Host"] == f"keys.test:{key_server.port}"


def test_it_says_when_a_host_name_cannot_be_resolved(monkeypatch):
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    assert "could not be resolved" in refusal("https://keys.invalid/keys")


def test_it_stops_waiting_for_a_resolver_that_hangs(monkeypatch):
    monkeypatch.setattr(fetch, "TIMEOUT_SECONDS", 0.2)

    def getaddrinfo(*args, **kwargs):
        time.sleep(1)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    assert "took longer than 0.2 s" in refusal("https://slow-dns.test/keys")


def test_it_refuses_a_redirect_without_following_it(key_server):
    target = key_server.url("/elsewhere?token=secret-value")
    key_server.serve("/keys", "", status=302, headers={"Location": target})
    key_server.serve("/elsewhere", "[]")

    with pytest.raises(FetchError) as caught:
        fetch.fetch(key_server.url("/keys"))

    message = str(caught.value)
    assert "redirect (HTTP 302)" in message
    assert "to http://127.0.0.1/elsewhere" in message
    assert "secret-value" not in message
    assert key_server.hits["/elsewhere"] == 0


def test_it_reports_an_error_status(key_server):
    key_server.serve("/keys", "oops", status=500)

    with pytest.raises(FetchError, match="answered HTTP 500"):
        fetch.fetch(key_server.url("/keys"))


def test_it_reports_a_refused_connection(settings):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with pytest.raises(FetchError, match=r"Could not fetch from 127\.0\.0\.1"):
        fetch.fetch(f"http://127.0.0.1:{port}/keys")


def test_it_accepts_a_body_of_exactly_64_kib(key_server):
    key_server.serve("/keys", b"x" * fetch.MAX_BODY_BYTES)

    assert len(fetch.fetch(key_server.url("/keys")).body) == 64 * 1024


def test_it_refuses_a_body_declared_larger_than_64_kib(key_server):
    key_server.serve("/keys", b"x" * (1024 * 1024))

    with pytest.raises(FetchError, match="more than 64 KiB"):
        fetch.fetch(key_server.url("/keys"))


def test_it_stops_reading_a_body_of_unknown_length_past_64_kib(key_server):
    def endless(handler):
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            for _ in range(1024):
                handler.wfile.write(b"x" * 1024)
        except OSError:
            return

    key_server.serve_with("/keys", endless)

    with pytest.raises(FetchError, match="more than 64 KiB"):
        fetch.fetch(key_server.url("/keys"))


def test_it_refuses_a_compressed_body(key_server):
    key_server.serve("/keys", b"\x1f\x8b", headers={"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="compressed"):
        fetch.fetch(key_server.url("/keys"))


def test_it_gives_up_at_its_deadline_in_all_on_a_server_that_trickles_forever(
    key_server, monkeypatch
):
    monkeypatch.setattr(fetch, "TIMEOUT_SECONDS", 1.0)
    gone = threading.Event()

    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "60000")
        handler.end_headers()
        try:
            while not gone.is_set():  # a byte now and then: each read alone is quick
                handler.wfile.write(b"x")
                handler.wfile.flush()
                gone.wait(0.05)
        except OSError:
            return

    key_server.serve_with("/keys", trickle)
    started = time.monotonic()

    with pytest.raises(FetchError, match="did not answer in full within 1 s"):
        fetch.fetch(key_server.url("/keys"))

    gone.set()
    # The deadline counts the whole exchange, not each read: it ends at 1 s, never later
    # than the trickle's next byte or two would allow.
    assert 1.0 <= time.monotonic() - started < 3.0


def test_it_ignores_proxies_set_in_the_environment(key_server, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    key_server.serve("/keys", "[]")

    assert fetch.fetch(key_server.url("/keys")).body == b"[]"


def test_it_sends_no_cookies_back(key_server):
    key_server.serve("/keys", "[]", headers={"Set-Cookie": "session=abc"})

    fetch.fetch(key_server.url("/keys"))
    fetch.fetch(key_server.url("/keys"))

    assert all("Cookie" not in request.headers for request in key_server.requests)


def test_it_accepts_an_empty_body(key_server):
    key_server.serve("/keys", "", status=204)

    assert fetch.fetch(key_server.url("/keys")).body == b""


def test_it_checks_the_certificate_against_the_host_name_it_pinned(monkeypatch, settings, tmp_path):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["keys.test"]
    fake_dns(monkeypatch, {"keys.test": ["127.0.0.1"]})
    server_names: list[str] = []
    port = tls_listener(tmp_path, server_names)

    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch.fetch(f"https://keys.test:{port}/keys")

    assert server_names == ["keys.test"]


def tls_listener(tmp_path, server_names: list[str]) -> int:
    """A TLS server on loopback with a self-signed certificate for keys.test, recording the
    server name each client asks for; returns its port."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keys.test")])
    now = datetime.now(tz=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("keys.test")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda _socket, server_name, _context: server_names.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_one() -> None:
        connection, _ = listener.accept()
        with listener, connection, contextlib.suppress(OSError):
            context.wrap_socket(connection, server_side=True)

    threading.Thread(target=serve_one, daemon=True).start()
    return listener.getsockname()[1]


def test_it_percent_encodes_what_may_not_travel_raw_in_the_request_line(key_server):
    key_server.serve("/schl%C3%BCssel%20aX-Injected:%20yes?q=%3Cb%3E", "[]")

    fetch.fetch(key_server.url("/schlüssel a\r\nX-Injected: yes?q=<b>"))

    [request] = key_server.requests
    assert request.path == "/schl%C3%BCssel%20aX-Injected:%20yes?q=%3Cb%3E"
    assert "X-Injected" not in request.headers


@pytest.mark.parametrize("url", ["http://[::1/keys", "https://example.com:99999/", "https:///keys"])
def test_it_refuses_a_url_that_is_not_valid(url):
    refusal(url)
