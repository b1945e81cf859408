"""Take docs/browse.png: the Browse page in headless Chromium, served from the offline snapshot.

    python scripts/screenshot.py [--out docs/browse.png]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.browser import launch, wait_for_app  # noqa: E402
from tests.support.streamlit_app import start_streamlit  # noqa: E402

SHOWN = ("/Browse?source=snapshot&task=text-generation&min_params=5B&max_params=10B&min_likes=500&provider=any"
         "&model=Qwen%2FQwen2.5-7B-Instruct&shortlist=Qwen%2FQwen2.5-7B-Instruct,meta-llama%2FLlama-3.1-8B-Instruct")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "browse.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        # HF_HUB_OFFLINE: the picture shows the shipped snapshot whatever the network does.
        server = start_streamlit(Path(tmp), {"HF_HUB_OFFLINE": "1", "HFDASH_CONFIG_DIR": tmp})
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                page = browser.new_page(viewport={"width": 1500, "height": 1200})
                page.goto(server.url + SHOWN)
                wait_for_app(page)
                page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
                page.wait_for_timeout(1500)  # let the data grid paint
                # Streamlit scrolls inside its main block, so grow the window to the content instead.
                height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
                page.set_viewport_size({"width": 1500, "height": min(int(height) + 40, 4000)})
                page.wait_for_timeout(800)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))
                browser.close()
        finally:
            server.stop()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
