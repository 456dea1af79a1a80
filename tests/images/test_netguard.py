import ipaddress

import pytest

from app.images import FetchFailed, UnsafeURL, default_resolver, is_public
from app.images.netguard import resolve_public
from tests.images.factory import PUBLIC_IP

NON_PUBLIC = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "100.64.0.1",
    "192.0.2.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 wrapping 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo wrapping 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
]


def fixed(*answers):
    return lambda host: list(answers)


class TestIsPublic:
    @pytest.mark.parametrize("address", NON_PUBLIC)
    def test_refuses_every_non_public_class(self, address):
        assert not is_public(ipaddress.ip_address(address))

    @pytest.mark.parametrize(
        "address", [PUBLIC_IP, "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946"]
    )
    def test_accepts_global_unicast(self, address):
        assert is_public(ipaddress.ip_address(address))


class TestResolvePublic:
    @pytest.mark.parametrize("address", NON_PUBLIC)
    def test_literal_is_checked_without_resolving(self, address):
        with pytest.raises(UnsafeURL):
            resolve_public(address, fixed(PUBLIC_IP))

    @pytest.mark.parametrize("address", NON_PUBLIC)
    def test_name_resolving_to_non_public_is_refused(self, address):
        with pytest.raises(UnsafeURL) as caught:
            resolve_public("sneaky.example", fixed(address))
        assert address not in caught.value.detail  # the internal address is not echoed

    @pytest.mark.parametrize(
        "host",
        [
            "2130706433",
            "0177.0.0.1",
            "0x7f.0.0.1",
            "0x7f000001",
            "127.1",
            "127.0.1",
            "017700000001",
            "127.0.0.1.",
            "0",
            "10.1",
        ],
    )
    def test_numeric_ipv4_forms_are_parsed_like_inet_aton(self, host):
        with pytest.raises(UnsafeURL, match="not a public"):
            resolve_public(host, fixed(PUBLIC_IP))

    @pytest.mark.parametrize(
        "host", ["1.2.3.256", "256.1", "1.2.3.4.5", "1.2.3.0x100", "09.1.1.1", "4294967296"]
    )
    def test_malformed_numeric_hosts_are_refused_not_resolved(self, host):
        with pytest.raises(UnsafeURL, match="malformed"):
            resolve_public(host, fixed(PUBLIC_IP))

    def test_numeric_form_of_a_public_address_is_allowed(self):
        assert str(resolve_public("1572395042", fixed())) == PUBLIC_IP

    def test_one_private_answer_among_public_ones_is_refused(self):
        with pytest.raises(UnsafeURL):
            resolve_public("mixed.example", fixed(PUBLIC_IP, "10.0.0.7"))

    def test_public_name_gives_the_address_to_pin(self):
        answer = resolve_public("images.example", fixed(PUBLIC_IP, "8.8.8.8"))
        assert answer == ipaddress.ip_address(PUBLIC_IP)

    def test_names_with_numeric_labels_inside_are_still_names(self):
        assert str(resolve_public("cdn1.123.example", fixed(PUBLIC_IP))) == PUBLIC_IP

    def test_no_answer_is_fetch_failed(self):
        with pytest.raises(FetchFailed):
            resolve_public("nowhere.example", fixed())

    def test_resolver_error_is_fetch_failed(self):
        def broken(_host):
            raise OSError("no network in tests")

        with pytest.raises(FetchFailed, match="could not be resolved"):
            resolve_public("nowhere.example", broken)

    def test_garbage_answer_is_fetch_failed(self):
        with pytest.raises(FetchFailed):
            resolve_public("odd.example", fixed("not-an-ip"))


class TestDefaultResolver:
    def test_numeric_host_needs_no_dns(self):
        # getaddrinfo answers a numeric host itself, without any query.
        assert default_resolver("127.0.0.1") == ["127.0.0.1"]
