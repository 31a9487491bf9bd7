"""Make the HTML of ``asv publish`` work without internet access.

asv 0.6's ``index.html`` loads jQuery, flot (and four flot plugins),
stupidtable, blueimp-md5 and Bootstrap from CDNs; offline, the page shows
nothing but an error.  The same libraries, at the same versions (Bootstrap
3.1.0 instead of 3.1.1), were shipped inside the asv 0.5.1 source
distribution on PyPI, under ``asv/www/vendor/``.  This script

1. downloads that sdist once with pip (``pip download asv==0.5.1 --no-deps
   --no-binary :all:``) into a cache folder and checks its SHA-256;
2. copies ``asv/www/vendor/*`` next to the published ``index.html``;
3. rewrites every ``<script src>``/``<link href>`` that points at a CDN to
   the local copy (dropping the CDN's ``integrity``/``crossorigin``
   attributes, which do not apply to local files), and fails if any
   external reference is left in any published ``.html`` file.

Usage, from ``asv_benchmarks/``::

    asv publish && python publish_offline.py && asv preview

``--html-dir`` and ``--cache-dir`` override the defaults (the ``html_dir``
of ``asv.conf.json`` and ``.asv/vendor-cache``).  With the sdist already in
the cache no network is needed.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))

SDIST = "asv-0.5.1.tar.gz"
SDIST_SHA256 = "805fc3cc46c0bcf3e7baeaa16a12e4b92f1276c25490db4cb80fc541afa52bfc"
VENDOR_PREFIX = "asv-0.5.1/asv/www/vendor/"

# CDN address pattern -> file of the sdist's vendor folder
CDN_TO_LOCAL = [
    (r"/jquery-3\.3\.1\.min\.js$", "jquery-3.3.1.min.js"),
    (r"/flot/0\.8\.3/jquery\.flot\.min\.js$", "jquery.flot-0.8.3.min.js"),
    (r"/flot/0\.8\.3/jquery\.flot\.time\.min\.js$", "jquery.flot-0.8.3.time.min.js"),
    (r"/flot/0\.8\.3/jquery\.flot\.selection\.min\.js$",
     "jquery.flot-0.8.3.selection.min.js"),
    (r"/flot/0\.8\.3/jquery\.flot\.categories\.min\.js$",
     "jquery.flot-0.8.3.categories.min.js"),
    (r"/flot-orderbars@[^/]+/js/jquery\.flot\.orderBars\.js$", "jquery.flot.orderBars.js"),
    (r"/stupidtable/[^/]+/stupidtable(\.min)?\.js$", "stupidtable.js"),
    (r"/blueimp-md5/[^/]+/js/md5(\.min)?\.js$", "md5.js"),
    (r"/bootstrap@3[^/]*/dist/js/bootstrap\.min\.js$", "bootstrap-3.1.0.min.js"),
    (r"/bootstrap@3[^/]*/dist/css/bootstrap\.min\.css$", "bootstrap-3.1.0.min.css"),
]

_TAG = re.compile(r"<(script|link)\b[^>]*>", re.IGNORECASE)
_URL_ATTR = re.compile(r"""\b(src|href)\s*=\s*(["'])(https?:)?//([^"']+)\2""", re.IGNORECASE)
_DROP_ATTRS = re.compile(
    r"""\s+(integrity|crossorigin|referrerpolicy)(\s*=\s*(["'])[^"']*\3)?""", re.IGNORECASE)


def default_html_dir():
    with open(os.path.join(HERE, "asv.conf.json")) as fh:
        text = fh.read()
    # asv.conf.json allows // comments; drop whole-line ones before parsing
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    conf = json.loads(text)
    return os.path.join(HERE, conf.get("html_dir", "html"))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_sdist(cache_dir):
    """Path of the checked asv 0.5.1 sdist, downloaded with pip if needed."""
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, SDIST)
    if not os.path.exists(path):
        subprocess.run([sys.executable, "-m", "pip", "download", "asv==0.5.1", "--no-deps",
                        "--no-binary", ":all:", "--dest", cache_dir], check=True)
    got = sha256(path)
    if got != SDIST_SHA256:
        raise SystemExit(f"{path}: SHA-256 {got} differs from the pinned {SDIST_SHA256}")
    return path


def extract_vendor(sdist, dest):
    """Copy the sdist's ``asv/www/vendor/*`` files into `dest`; return their names."""
    os.makedirs(dest, exist_ok=True)
    names = []
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar.getmembers():
            if not (member.isfile() and member.name.startswith(VENDOR_PREFIX)):
                continue
            name = member.name[len(VENDOR_PREFIX):]
            if "/" in name or name.startswith("."):
                continue
            with tar.extractfile(member) as src, open(os.path.join(dest, name), "wb") as out:
                out.write(src.read())
            names.append(name)
    return sorted(names)


def local_name(url):
    for pattern, name in CDN_TO_LOCAL:
        if re.search(pattern, url):
            return name
    return None


def rewrite_html(text, vendor_subdir="vendor"):
    """Point CDN script/link tags at local copies; return (text, unknown URLs)."""
    unknown = []

    def fix_tag(match):
        tag = match.group(0)
        url_match = _URL_ATTR.search(tag)
        if not url_match:
            return tag
        url = "//" + url_match.group(4)
        name = local_name(url)
        if name is None:
            unknown.append(url)
            return tag
        attr, quote = url_match.group(1), url_match.group(2)
        tag = tag[:url_match.start()] + f"{attr}={quote}{vendor_subdir}/{name}{quote}" \
            + tag[url_match.end():]
        return _DROP_ATTRS.sub("", tag)

    return _TAG.sub(fix_tag, text), unknown


def external_refs(text):
    """CDN addresses still loaded by script/link tags of `text`."""
    refs = []
    for match in _TAG.finditer(text):
        url_match = _URL_ATTR.search(match.group(0))
        if url_match:
            refs.append(url_match.group(0))
    return refs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html-dir", default=None, help="asv's published HTML folder")
    parser.add_argument("--cache-dir", default=os.path.join(HERE, ".asv", "vendor-cache"),
                        help="where the asv 0.5.1 sdist is kept")
    args = parser.parse_args(argv)
    html_dir = args.html_dir or default_html_dir()
    index = os.path.join(html_dir, "index.html")
    if not os.path.exists(index):
        raise SystemExit(f"{index} does not exist: run `asv publish` first")

    vendor = extract_vendor(fetch_sdist(args.cache_dir), os.path.join(html_dir, "vendor"))
    needed = {name for _, name in CDN_TO_LOCAL}
    missing = needed - set(vendor)
    if missing:
        raise SystemExit(f"the sdist lacks {sorted(missing)}")

    problems = []
    for name in sorted(os.listdir(html_dir)):
        if not name.endswith(".html"):
            continue
        path = os.path.join(html_dir, name)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        new, unknown = rewrite_html(text)
        problems += [f"{name}: no local copy for {url}" for url in unknown]
        problems += [f"{name}: still external: {ref}" for ref in external_refs(new)
                     if not any(u in ref for u in unknown)]
        if new != text:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(new)
            print(f"rewrote {path}")
    if problems:
        raise SystemExit("external references left:\n  " + "\n  ".join(problems))
    print(f"{html_dir}: every script and stylesheet is local ({len(vendor)} vendored files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
