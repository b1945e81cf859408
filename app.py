"""hfdash's entry point: the page list (files in pages/, Home drawn here), then the page the URL names."""

from hfdash.ui import layout

layout.run_page()
