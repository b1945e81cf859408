"""hfdash home page. The other pages are in pages/."""

from hfdash.ui.layout import page_setup

page_setup("Home", "🤗")

from hfdash.ui import home  # noqa: E402

home.render()
