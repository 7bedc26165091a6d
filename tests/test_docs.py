"""The docs site's sources hang together: nav pages exist, relative links resolve, `:::` targets exist.

No build here (CI runs ``python -m mkdocs build --strict``, see ``.ci/run``); these checks are
static, so they run without mkdocs installed and catch a moved file before the build does.
"""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

_NAV_PAGE = re.compile(r"^\s*-\s*(?:[^:]+:\s*)?([\w./-]+\.md)\s*$")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.M)
# kernels/ is installed as gpu_bo.kernels (pyproject's package-dir), so a page may name either
_MODULE_DIRS = {"gpu_bo.kernels": "kernels"}


def _nav_pages() -> list[str]:
    """The .md paths listed under ``nav:`` in mkdocs.yml (relative to docs/)."""
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text.split("\nnav:", 1)[1]
    pages = []
    for line in nav.splitlines()[1:]:
        if line and not line[0].isspace():  # the next top-level key ends the nav
            break
        m = _NAV_PAGE.match(line)
        if m:
            pages.append(m.group(1))
    return pages


def _markdown_files() -> list[pathlib.Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _links(md: pathlib.Path) -> list[str]:
    """Link targets of ``md``, outside code blocks and inline code."""
    text = _INLINE_CODE.sub("", _FENCE.sub("", md.read_text()))
    return _LINK.findall(text)


def _module_file(dotted: str) -> pathlib.Path | None:
    """The source file that defines ``dotted`` (a module, or a top-level object of one), else None."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        base = ROOT / _MODULE_DIRS.get(name, name.replace(".", "/"))
        for cand in (base.with_suffix(".py"), base / "__init__.py"):
            if cand.is_file():
                if i == len(parts):
                    return cand
                # an object inside the module: it must be defined (or imported) there by name
                obj = re.escape(parts[i])
                defined = re.search(rf"^(class|def)\s+{obj}\b|^{obj}\s*[:=]|^\s+{obj},?$|import .*\b{obj}\b",
                                    cand.read_text(), re.M)
                return cand if defined else None
    return None


def test_mkdocs_nav_pages_exist_and_every_page_is_in_nav():
    pages = _nav_pages()
    assert pages, "mkdocs.yml: found no pages under nav:"
    missing = [p for p in pages if not (DOCS / p).is_file()]
    assert not missing, f"mkdocs.yml nav lists pages that do not exist under docs/: {missing}"
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk - set(pages) == set(), f"pages under docs/ missing from mkdocs.yml nav: {on_disk - set(pages)}"


@pytest.mark.parametrize("md", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_to_existing_files(md):
    broken = []
    for target in _links(md):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http(s), mailto, ...; a same-page anchor (mkdocs --strict checks anchors)
        path = target.split("#", 1)[0]
        if not (md.parent / path).exists():
            broken.append(target)
    assert not broken, f"{md.relative_to(ROOT)}: links to missing files: {broken}"


@pytest.mark.parametrize("md", sorted((DOCS / "api").glob("*.md")), ids=lambda p: p.name)
def test_api_directives_name_modules_that_exist(md):
    targets = _DIRECTIVE.findall(md.read_text())
    missing = [t for t in targets if _module_file(t) is None]
    assert not missing, f"{md.relative_to(ROOT)}: '::: ' targets with no module in the tree: {missing}"


def test_docs_do_not_link_outside_docs_dir():
    # mkdocs only serves docs/; a link out of it (say to benchmarks/results) would be a broken
    # link on the site, so the pages name such files as code instead
    for md in sorted(DOCS.rglob("*.md")):
        for target in _links(md):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            resolved = (md.parent / target.split("#", 1)[0]).resolve()
            assert resolved.is_relative_to(DOCS.resolve()), f"{md.relative_to(ROOT)}: {target} leaves docs/"
