import time

import httpx
import pytest

from app.images import FetchFailed, ImageLimits, ImageTooLarge, UnsafeURL, fetch_image
from tests.images.factory import PUBLIC_IP, make_image
from tests.images.test_netguard import NON_PUBLIC

PNG = make_image("PNG")
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
NAMES = {"images.example": [PUBLIC_IP], "cdn.example": ["8.8.8.8"]}


def resolver(host):
    """Fake DNS: known names resolve to public addresses; ``private-<ip>.test`` to that ip."""
    if host.startswith("private-"):
        return [host.removeprefix("private-").removesuffix(".test").replace("_", ":")]
    return NAMES.get(host, [])


class Recorder:
    """A MockTransport handler that serves from a routing function and keeps every request."""

    def __init__(self, route):
        self.route = route
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        return self.route(request)

    def client(self):
        return httpx.Client(transport=httpx.MockTransport(self))


def serve_png(_request):
    return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})


def never_called(request):
    raise AssertionError(f"no request should be sent, got {request.url}")


def fetch(url, route=serve_png, limits=None, resolve=resolver):
    recorder = Recorder(route)
    with recorder.client() as client:
        body = fetch_image(url, limits or ImageLimits(), client=client, resolver=resolve)
    return body, recorder.requests


class TestFetchImage:
    def test_downloads_over_http_pinned_to_the_checked_address(self):
        body, [request] = fetch("http://images.example/cat.png?size=large")
        assert body == PNG
        assert request.url.host == PUBLIC_IP
        assert request.url.raw_path == b"/cat.png?size=large"
        assert request.headers["Host"] == "images.example"
        assert request.headers["Accept-Encoding"] == "identity"

    def test_https_keeps_the_name_for_sni_and_certificates(self):
        _, [request] = fetch("https://images.example:8443/cat.png")
        assert (request.url.scheme, request.url.host, request.url.port) == (
            "https",
            PUBLIC_IP,
            8443,
        )
        assert request.headers["Host"] == "images.example:8443"
        assert request.extensions["sni_hostname"] == "images.example"

    def test_public_ip_literals_skip_dns(self):
        def no_dns(_host):
            raise AssertionError("a literal needs no resolver")

        _, [request] = fetch(f"http://[{PUBLIC_V6}]/a.png", resolve=no_dns)
        assert request.url.host == PUBLIC_V6
        assert request.headers["Host"] == f"[{PUBLIC_V6}]"

    def test_dns_is_asked_once_per_hop_and_its_answer_is_what_we_connect_to(self):
        answers = iter([[PUBLIC_IP], ["127.0.0.1"]])  # a rebinding server flips its answer
        calls = []

        def rebinding(host):
            calls.append(host)
            return next(answers)

        _, [request] = fetch("http://images.example/a.png", resolve=rebinding)
        assert calls == ["images.example"]
        assert request.url.host == PUBLIC_IP

    def test_without_a_client_unsafe_urls_are_refused_before_any_connection(self):
        with pytest.raises(UnsafeURL):
            fetch_image("http://127.0.0.1/", ImageLimits())


class TestRefusedURLs:
    @pytest.mark.parametrize(
        "url",
        [
            "ftp://images.example/a.png",
            "file:///etc/passwd",
            "gopher://images.example/",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "images.example/a.png",
        ],
    )
    def test_only_http_and_https(self, url):
        with pytest.raises(UnsafeURL) as caught:
            fetch(url, route=never_called)
        assert caught.value.status == 422

    @pytest.mark.parametrize("address", NON_PUBLIC)
    def test_every_non_public_literal(self, address):
        host = f"[{address}]" if ":" in address else address
        with pytest.raises(UnsafeURL):
            fetch(f"http://{host}/a.png", route=never_called)

    @pytest.mark.parametrize("address", NON_PUBLIC)
    def test_every_name_resolving_to_non_public(self, address):
        with pytest.raises(UnsafeURL):
            fetch(f"http://private-{address.replace(':', '_')}.test/a.png", route=never_called)

    @pytest.mark.parametrize(
        "url",
        [
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://127.1/",
            "http://0x7f000001:8080/",
            "http://10.1/",
            "http://127.000.000.001/",
        ],
    )
    def test_decimal_octal_and_short_ipv4_forms(self, url):
        with pytest.raises(UnsafeURL):
            fetch(url, route=never_called, resolve=lambda host: [PUBLIC_IP])

    def test_a_name_with_mixed_public_and_private_answers(self):
        NAMES["mixed.example"] = [PUBLIC_IP, "192.168.0.10"]
        with pytest.raises(UnsafeURL):
            fetch("http://mixed.example/a.png", route=never_called)

    @pytest.mark.parametrize(
        "url",
        [
            "http://user:pw@images.example/a.png",
            "http://[::1/",
            "http://images.example/" + "a" * 3000,
            "http:///a.png",
        ],
    )
    def test_malformed_or_credentialled_urls(self, url):
        with pytest.raises(UnsafeURL):
            fetch(url, route=never_called)


class TestRedirects:
    def test_relative_redirect_is_followed_and_re_pinned(self):
        def route(request):
            if request.url.path == "/old.png":
                return httpx.Response(301, headers={"Location": "/new.png"})
            return serve_png(request)

        body, requests = fetch("http://images.example/old.png", route=route)
        assert body == PNG
        assert [r.url.path for r in requests] == ["/old.png", "/new.png"]
        assert all(
            r.url.host == PUBLIC_IP and r.headers["Host"] == "images.example" for r in requests
        )

    def test_redirect_to_another_public_host(self):
        def route(request):
            if request.headers["Host"] == "images.example":
                return httpx.Response(302, headers={"Location": "https://cdn.example/a.png"})
            return serve_png(request)

        body, requests = fetch("http://images.example/a.png", route=route)
        assert body == PNG
        assert requests[1].url.host == "8.8.8.8"
        assert requests[1].extensions["sni_hostname"] == "cdn.example"

    @pytest.mark.parametrize(
        "location",
        [
            "http://private-10.0.0.5.test/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "file:///etc/passwd",
            "ftp://images.example/a.png",
        ],
    )
    def test_redirect_to_a_private_host_or_other_scheme_is_refused(self, location):
        recorder = Recorder(lambda request: httpx.Response(302, headers={"Location": location}))
        with recorder.client() as client, pytest.raises(UnsafeURL):
            fetch_image("http://images.example/a.png", client=client, resolver=resolver)
        assert len(recorder.requests) == 1

    def test_too_many_redirects(self):
        recorder = Recorder(lambda request: httpx.Response(307, headers={"Location": "/again"}))
        with recorder.client() as client, pytest.raises(FetchFailed, match="more than 2 redirects"):
            fetch_image(
                "http://images.example/a.png",
                ImageLimits(url_max_redirects=2),
                client=client,
                resolver=resolver,
            )
        assert len(recorder.requests) == 3

    def test_redirect_without_location_is_fetch_failed(self):
        with pytest.raises(FetchFailed, match="HTTP 302"):
            fetch("http://images.example/a.png", route=lambda request: httpx.Response(302))


class TestFailuresAndCaps:
    @pytest.mark.parametrize("status", [204, 206])
    def test_any_2xx_is_a_body(self, status):
        body, _ = fetch(
            "http://images.example/a.png", route=lambda r: httpx.Response(status, content=PNG)
        )
        assert body == PNG

    @pytest.mark.parametrize("status", [304, 400, 403, 404, 500, 503])
    def test_non_2xx_is_fetch_failed(self, status):
        with pytest.raises(FetchFailed, match=f"HTTP {status}") as caught:
            fetch("http://images.example/a.png", route=lambda request: httpx.Response(status))
        assert caught.value.status == 422

    def test_unknown_name_is_fetch_failed(self):
        with pytest.raises(FetchFailed, match="did not resolve"):
            fetch("http://unknown.example/a.png", route=never_called)

    @pytest.mark.parametrize(
        ("error", "message"),
        [
            (httpx.ReadTimeout, "longer than"),
            (httpx.ConnectTimeout, "longer than"),
            (httpx.ConnectError, "ConnectError"),
        ],
    )
    def test_transport_errors_are_fetch_failed(self, error, message):
        def route(request):
            raise error("boom", request=request)

        with pytest.raises(FetchFailed, match=message):
            fetch("http://images.example/a.png", route=route)

    def test_overall_deadline_stops_a_slow_drip(self):
        def drip():
            for _ in range(50):
                time.sleep(0.01)
                yield b"x" * 10

        started = time.perf_counter()
        with pytest.raises(FetchFailed, match="longer than"):
            fetch(
                "http://images.example/a.png",
                route=lambda r: httpx.Response(200, content=drip()),
                limits=ImageLimits(url_timeout_s=0.05),
            )
        assert time.perf_counter() - started < 0.3

    def test_size_cap_while_streaming_stops_reading(self):
        sent = []

        def endless():
            while True:
                sent.append(1)
                yield b"\0" * 1024

        with pytest.raises(ImageTooLarge) as caught:
            fetch(
                "http://images.example/a.png",
                route=lambda r: httpx.Response(200, content=endless()),
                limits=ImageLimits(max_file_bytes=4096),
            )
        assert caught.value.status == 413
        assert len(sent) <= 6

    def test_declared_length_over_the_cap_is_refused_before_reading(self):
        def route(_request):
            return httpx.Response(200, content=PNG, headers={"Content-Length": "999999999"})

        with pytest.raises(ImageTooLarge, match="999,999,999"):
            fetch("http://images.example/a.png", route=route)

    def test_exactly_the_cap_is_allowed(self):
        body, _ = fetch("http://images.example/a.png", limits=ImageLimits(max_file_bytes=len(PNG)))
        assert body == PNG

    def test_compressed_transfer_encoding_is_refused(self):
        def route(_request):
            body = iter([b"\x1f\x8b" + bytes(100)])  # streamed, so nothing decodes it early
            return httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"})

        with pytest.raises(FetchFailed, match="gzip"):
            fetch("http://images.example/a.png", route=route)
