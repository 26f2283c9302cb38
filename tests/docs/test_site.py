"""The documentation site: ``mkdocs build --strict`` succeeds and what it builds holds together.

The site is built once (module fixture) with a few quick labs run (``LAMINA_DOCS_LABS``; the
lab suite runs all of them already), then checked as HTML: every page of the navigation and
every lab has a page, every picture a page shows exists, every internal link and anchor
resolves, the lab pages show the tables and pictures of their lab, and the API reference has
an entry for every name of every public package's ``__all__``. Where a headless Chromium is
installed (Debian's ``chromium`` or ``chromium-headless-shell``) the home page and a lab page
are also rendered to screenshots and checked for content; ``LAMINA_DOCS_SCREENSHOTS=DIR``
keeps them.
"""
from __future__ import annotations

import html.parser
import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("material")
pytest.importorskip("mkdocstrings_handlers.python")
yaml = pytest.importorskip("yaml")

import lamina  # noqa: E402
from lamina.labs import LABS, run_lab  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUILT_LABS = ["backprop-example", "graph", "block-coordinate-descent"]  # quick ones


class _Page(html.parser.HTMLParser):
    """The ids, links, images and text of one HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.ids, self.links, self.images, self.text = set(), [], [], []
        self.prose = []  # text outside <pre> blocks
        self.tags = set()
        self.tables = self._in_pre = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in ("img", "script") and attrs.get("src"):
            (self.images if tag == "img" else self.links).append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "table":
            self.tables += 1
        if tag == "pre":
            self._in_pre += 1

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre -= 1

    def handle_data(self, data):
        self.text.append(data)
        if not self._in_pre:
            self.prose.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    env = dict(os.environ, LAMINA_DOCS_LABS=",".join(BUILT_LABS), MPLBACKEND="Agg",
               NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                           str(ROOT / "mkdocs.yml"), "-d", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-6000:]
    return out


@pytest.fixture(scope="module")
def pages(site) -> dict:
    return {str(p.relative_to(site)): _Page(p.read_text(encoding="utf-8"))
            for p in site.rglob("*.html")}


def _nav_pages(nav) -> list[str]:
    found = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        found += _nav_pages(value) if isinstance(value, list) else [value]
    return found


def test_every_page_of_the_navigation_and_every_lab_is_built(site):
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    expected = [p.replace(".md", ".html") for p in _nav_pages(config["nav"])]
    expected += [f"labs/{name}.html" for name in LABS]
    missing = [p for p in expected if not (site / p).is_file()]
    assert not missing
    assert (site / "index.html").stat().st_size > 0 and (site / "search").is_dir()


def test_every_picture_a_page_shows_exists(site, pages):
    shown = 0
    for name, page in pages.items():
        for src in page.images:
            if urlsplit(src).scheme:
                continue
            src_path = unquote(urlsplit(src).path)
            path = site / src_path.lstrip("/") if src_path.startswith("/") else (site / name).parent / src_path
            assert path.is_file(), f"{name} shows {src}, which is not in the site"
            head = path.read_bytes()[:8]
            assert head == b"\x89PNG\r\n\x1a\n" or path.suffix == ".svg", f"{path} is no PNG"
            shown += 1
    assert shown > 0


def test_internal_links_and_anchors_resolve(site, pages):
    broken = []
    for name, page in pages.items():
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("mailto:", "//")):
                continue
            if not parts.path:
                target = site / name
            elif parts.path.startswith("/"):  # 404.html links from the site's root
                target = site / unquote(parts.path).lstrip("/")
            else:
                target = (site / name).parent / unquote(parts.path)
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{name}: {href}")
            elif parts.fragment and target.suffix == ".html":
                key = str(target.resolve().relative_to(site.resolve()))
                if unquote(parts.fragment) not in pages[key].ids:
                    broken.append(f"{name}: {href} (no such anchor)")
    assert not broken, "\n".join(broken[:40])


@pytest.mark.parametrize("name", BUILT_LABS)
def test_a_lab_page_shows_its_labs_tables_and_pictures(name, site, pages, tmp_path):
    page = pages[f"labs/{name}.html"]
    text = " ".join(" ".join(page.text).split())
    report = run_lab(name, quick=True, out=str(tmp_path))  # the same lab, run here
    assert page.tables >= len(report.tables) > 0
    for table in report.tables:
        assert " ".join(table.title.split()) in text
        for cell in table.rows[0]:
            assert " ".join(cell.replace("`", "").split()) in text
    pictures = sorted(os.path.basename(f) for f in report.files if f.endswith(".png"))
    shown = sorted(os.path.basename(src) for src in page.images)
    assert shown == pictures
    for other in report.files:  # every file the lab wrote is in the site beside the page
        assert (site / "labs" / name / os.path.basename(other)).is_file()
    assert f"notebooks/{name}.ipynb" in " ".join(page.links)


def test_a_lab_not_run_still_has_its_page_saying_so(pages):
    skipped = next(n for n in LABS if n not in BUILT_LABS)
    text = " ".join(" ".join(pages[f"labs/{skipped}.html"].text).split())
    assert LABS[skipped][1][:40] in text.lower() or LABS[skipped][1][1:40] in text
    assert "did not run the lab" in text and f"lamina lab {skipped}" in text


def test_the_labs_index_lists_every_lab(pages):
    index = pages["labs/index.html"]
    assert {f"{n}.html" for n in LABS} <= set(index.links)


def _documented_names() -> list[tuple[str, str]]:
    """(module path, name) for each public name of each package a user imports."""
    found = [("lamina", n) for n in lamina.__all__]
    for sub in lamina.SUBPACKAGES:
        module = importlib.import_module(f"lamina.{sub}")
        found += [(f"lamina.{sub}", n) for n in getattr(module, "__all__", ())]
    utils = importlib.import_module("lamina.utils")
    for info in pkgutil.iter_modules(utils.__path__):  # torch.utils.* paths
        module = importlib.import_module(f"lamina.utils.{info.name}")
        found += [(f"lamina.utils.{info.name}", n) for n in getattr(module, "__all__", ())]
    return [(m, n) for m, n in found if not n.startswith("_")]


def test_the_api_reference_lists_every_public_name(pages):
    ids = set().union(*(p.ids for name, p in pages.items() if name.startswith("reference/")))
    missing = []
    for module_path, name in _documented_names():
        if f"{module_path}.{name}" in ids:
            continue
        obj = getattr(importlib.import_module(module_path), name)
        # a re-export documented where it lives for the user: lamina.Tensor for
        # lamina.autograd.Tensor, lamina.relu for lamina.ops.relu, lamina.data.X for
        # lamina.utils.data.X
        if f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}" in ids:
            continue  # listed where it is defined (a function its module's name shadows)
        if any(f"{alt}.{name}" in ids and getattr(importlib.import_module(alt), name, None) is obj
               for alt in ("lamina", "lamina.data")):
            continue
        missing.append(f"{module_path}.{name}")
    assert not missing, f"{len(missing)} public names without an entry: {missing[:30]}"


def test_attributes_do_not_show_their_values_class_docstring(pages):
    text = " ".join(pages["reference/lamina.html"].prose)
    assert "DType class corresponding" not in text and "Built-in immutable sequence" not in text
    assert "lamina.float32" in pages["reference/lamina.html"].ids


def test_the_tensor_page_lists_its_methods(pages):
    ids = pages["reference/tensor.html"].ids
    for method in ("backward", "detach", "numpy", "item", "view", "sum", "requires_grad_"):
        assert f"lamina.Tensor.{method}" in ids


def test_docstring_examples_are_code_not_quotes(pages):
    # tools/griffe_docstrings.py fences `>>>` examples as code blocks: none may be left as
    # prose, or as the nested block quotes Markdown makes of `>>>` lines
    examples = 0
    for name, page in pages.items():
        if name.startswith("reference/"):
            assert ">>>" not in "".join(page.prose) and "blockquote" not in page.tags, name
            examples += "".join(page.text).count(">>>")
    assert examples > 50


def _chromium() -> str | None:
    for name in ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.parametrize("page", ["index.html", "labs/graph.html"])
def test_headless_chromium_renders_the_page(page, site, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no headless Chromium (apt-get install chromium-headless-shell)")
    image = pytest.importorskip("matplotlib.image")
    keep = os.environ.get("LAMINA_DOCS_SCREENSHOTS")
    shot = Path(keep) / page.replace("/", "_").replace(".html", ".png") if keep else tmp_path / "shot.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--screenshot={shot}", "--window-size=1280,900",
                           (site / page).as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    pixels = image.imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (900, 1280)
    ink = (pixels.min(axis=2) < 0.8).mean()  # not a blank page: text, header, navigation
    colours = len({tuple(p) for p in (pixels[::8, ::8].reshape(-1, 3) * 255).astype(int)})
    assert ink > 0.02 and colours > 20
    header = pixels[:40, :, :]  # material's indigo header bar: the theme's CSS was applied
    assert (header[..., 2] - header[..., 0]).mean() > 0.2
