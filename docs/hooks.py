"""MkDocs hooks: the results page links its archives in the repository's results/ folder,
outside the site; on the site those links become the archive's path in the repository."""

import re

ARCHIVE = re.compile(r"\[([^\]]*)\]\(<?\.\./results/([^)>]+)>?\)")


def on_page_markdown(markdown, page, **_):
    """Replace links to ../results/NAME by `results/NAME` (text, not a link)."""
    return ARCHIVE.sub(lambda m: f"{m[1]} (`results/{m[2]}` in the repository)", markdown)
