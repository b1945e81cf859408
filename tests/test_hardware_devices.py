"""The shipped device table: the Apple silicon line-up by memory size, each row with its source."""

from __future__ import annotations

import re

from hfdash.hardware.devices import shipped_devices
from hfdash.hardware.local import find_device
from hfdash.hardware.estimate import GIB

APPLE_SPEC_PAGE = re.compile(r"^https://(support\.apple\.com/|www\.apple\.com/[a-z-]+/specs/)")


def apple() -> list:
    return [d for d in shipped_devices() if d.kind == "unified"]


def test_every_m_generation_has_base_pro_max_and_ultra_with_its_memory_sizes():
    sizes: dict[str, set[int]] = {}
    for device in apple():
        chip = device.name.removeprefix("Apple ").split(" GB")[0].rsplit(" ", 1)[0]
        sizes.setdefault(chip, set()).add(round(device.memory_bytes / GIB))
    for generation in ("M1", "M2", "M3", "M4"):
        for tier in ("", " Pro", " Max"):
            assert f"{generation}{tier}" in sizes, f"{generation}{tier} missing"
    for ultra in ("M1 Ultra", "M2 Ultra", "M3 Ultra"):
        assert ultra in sizes
    # The 8 GB base models, and a few memory sizes as sold.
    assert {8, 16} <= sizes["M1"] and {8, 16, 24} <= sizes["M2"] and 8 in sizes["M3"]
    assert sizes["M3 Pro"] == {18, 36} and sizes["M4 Pro"] == {24, 48, 64} and sizes["M2 Ultra"] == {64, 128, 192}


def test_each_apple_row_names_an_apple_tech_specs_page_and_its_figures():
    for device in apple():
        assert APPLE_SPEC_PAGE.match(device.source), device
        assert "tech specs" in device.source and device.bandwidth_bytes_s and device.bandwidth_bytes_s > 0
        assert device.usable_fraction == 0.75
    names = [d.name for d in shipped_devices()]
    assert len(names) == len(set(names)) and len({d.id for d in shipped_devices()}) == len(names)


def test_ids_in_existing_links_still_resolve():
    for old in ("m1-16gb", "m2-24gb", "m3-pro-36gb", "m3-max-128gb", "m4-16gb", "m4-pro-48gb", "m4-max-128gb",
                "m2-ultra-192gb", "m3-ultra-512gb"):
        assert find_device(old).kind == "unified"


def test_a_binned_max_says_so_and_has_its_lower_bandwidth():
    binned, full = find_device("m4-max-36gb"), find_device("m4-max-48gb")
    assert "14-core CPU" in binned.name and binned.bandwidth_bytes_s < full.bandwidth_bytes_s
