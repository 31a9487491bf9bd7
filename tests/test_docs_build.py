"""The helpers behind the docs and the asv report (fast; no Sphinx build here).

The Sphinx builds themselves (``-W`` HTML and the doctests of every public
docstring) run in ``build_tools/ci_docs.sh``; the asv smoke in
``build_tools/ci_asv.sh``.  These tests pin the pieces those scripts rely on:
the user-guide figures agree with the formula counted by brute force, the
benchmarks page never shows numbers that are not in the results file, the
doctest coverage check notices a missing or failing page, and the offline
asv page has no external script left.
"""

import importlib.util
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(relpath, name):
    path = os.path.join(ROOT, relpath)
    if not os.path.exists(path):
        # e.g. the tests run against an installed wheel from a folder that
        # holds only tests/ (build_tools/wheels/build_and_test.sh)
        pytest.skip(f"{relpath} is not beside the tests (not a source checkout)")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def figures():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    return _load("docs/figures.py", "fastconv_docs_figures")


@pytest.fixture(scope="module")
def bench_plot():
    pytest.importorskip("matplotlib")
    return _load("docs/bench_plot.py", "fastconv_docs_bench_plot")


@pytest.fixture(scope="module")
def check_doctests():
    return _load("docs/check_doctests.py", "fastconv_docs_check_doctests")


@pytest.fixture(scope="module")
def publish_offline():
    return _load("asv_benchmarks/publish_offline.py", "fastconv_asv_publish_offline")


# ---------------------------------------------------------------- figures

@pytest.mark.parametrize("n, k, s, d, padding", [
    (8, 4, 1, 1, "valid"), (8, 4, 1, 1, "same"), (8, 4, 1, 1, "full"), (8, 4, 1, 1, "causal"),
    (9, 3, 2, 1, "valid"), (9, 3, 1, 2, "valid"), (9, 3, 2, 2, "valid"), (10, 3, 2, 1, "same"),
])
def test_figure_draws_as_many_outputs_as_windows_fit(figures, n, k, s, d, padding):
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    import fastconv

    fig, ax = plt.subplots()
    try:
        drawn = figures.draw_axis(ax, n, k, stride=s, dilation=d, padding=padding)
        out_color = mcolors.to_rgba(figures.OUTPUT)
        boxes = [p for p in ax.patches if p.get_facecolor() == out_color]
    finally:
        plt.close(fig)
    (lo, hi), = fastconv.resolve_padding(padding, (n,), k, s, d)
    # brute force: output j exists while its last tap is inside the padded input
    fitting = sum(1 for j in range(n + lo + hi) if j * s + d * (k - 1) <= n + lo + hi - 1)
    assert drawn == fitting == len(boxes)


def test_padding_figure_has_four_panels(figures):
    import matplotlib.pyplot as plt

    fig = figures.padding_figure()
    try:
        titles = [ax.get_title(loc="left").split(":")[0] for ax in fig.axes]
    finally:
        plt.close(fig)
    assert titles == ["valid", "same", "full", "causal"]


# ---------------------------------------------------------------- benchmarks page

def test_bench_page_without_results_says_so(bench_plot, tmp_path):
    frag = tmp_path / "frag.inc"
    found = bench_plot.write_results_fragment(str(tmp_path / "missing.json"), str(frag),
                                              str(tmp_path / "img"), "/img")
    text = frag.read_text()
    assert found is False
    assert "No benchmark results are recorded" in text
    assert ".. image::" not in text
    assert not (tmp_path / "img").exists()


def test_bench_page_plots_only_the_recorded_ratios(bench_plot, tmp_path):
    # a made-up file for this test only: the page must show what it holds
    data = {"config": {"version": "9.9", "threads": 3, "simd": {"level": "avx2"},
                       "openmp": {"enabled": True}},
            "quick": True, "repeats": 5,
            "results": [{"section": "A", "workload": "w1", "fastconv_s": 0.5, "gflops": 1.0,
                         "peers": {"peerX": 1.0},
                         "methods": {"direct": 0.4, "fft": 0.9},
                         "planner": {"best": "direct", "auto_over_best": 1.25}},
                        {"section": "B", "workload": "w2", "fastconv_s": 0.25, "gflops": 2.0,
                         "peers": {"peerY": 0.125}}],
            "scaling": [{"workload": "w3", "t1": 0.2, "t2": 0.1, "scaling": 2.0,
                         "bitwise_identical": True, "extra_peak_over_input": 0.5}]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    frag = tmp_path / "frag.inc"
    assert bench_plot.write_results_fragment(str(path), str(frag), str(tmp_path / "img"), "/img")
    text = frag.read_text()
    assert sorted(os.listdir(tmp_path / "img")) == ["speedup_A.png", "speedup_B.png"]
    assert ".. image:: /img/speedup_A.png" in text
    assert "peerX 2.00x" in text and "peerY 0.50x" in text
    assert "fastconv 9.9" in text and "3 threads" in text and "median of 5" in text
    assert "w3" in text and "2.00x" in text
    # the planner table: only for the row that recorded its methods
    assert text.count("auto / fastest") == 1
    assert "1.25x" in text and "direct 400.00 ms, fft 900.00 ms" in text


def test_bench_page_rejects_other_json(bench_plot, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"benchmarks": []}))
    with pytest.raises(ValueError, match="expected an object with a 'results' list"):
        bench_plot.load(str(path))
    path.write_text(json.dumps({"results": [{"section": "A", "workload": "w"}]}))
    with pytest.raises(ValueError, match="a result lacks 'fastconv_s'"):
        bench_plot.load(str(path))


# ---------------------------------------------------------------- doctest coverage

REPORT = """\
Results of doctest builder run on 2026-01-01

Document: _generated/api/generated/fastconv.conv
1 items passed all tests:
   5 tests in default
5 tests in 1 items.
5 passed and 0 failed.
Test passed.

Document: user_guide
**********************************************************************
1 items had failures:
   1 of   4 in default
4 tests in 1 items.
3 passed and 1 failed.
***Test Failed*** 1 failures.
"""


def test_doctest_report_is_parsed(check_doctests):
    assert check_doctests.parse_report(REPORT) == {
        "_generated/api/generated/fastconv.conv": (5, 0), "user_guide": (3, 1)}


def test_doctest_check_flags_missing_and_failing_pages(check_doctests, tmp_path, capsys):
    report = tmp_path / "output.txt"
    report.write_text(REPORT)
    assert check_doctests.main([str(report)]) == 1
    out = capsys.readouterr().out
    assert "fastconv.conv2d: no example ran" in out      # public, but no page in the report
    assert "user_guide: 1 failed" in out
    assert "fastconv.conv:" not in out                   # its page passed


def test_doctest_check_covers_fastconv_all(check_doctests):
    import fastconv

    names = check_doctests.public_objects()
    expected = {f"fastconv.{n}" for n in fastconv.__all__ if callable(getattr(fastconv, n))}
    assert expected <= set(names)
    assert "fastconv.__version__" not in names


# ---------------------------------------------------------------- offline asv HTML

def test_publish_offline_rewrites_every_cdn_reference_of_asv(publish_offline):
    asv = pytest.importorskip("asv")
    index = os.path.join(os.path.dirname(asv.__file__), "www", "index.html")
    with open(index, encoding="utf-8") as fh:
        text = fh.read()
    assert publish_offline.external_refs(text)  # the stock page does load from CDNs
    new, unknown = publish_offline.rewrite_html(text)
    assert unknown == []
    assert publish_offline.external_refs(new) == []
    assert "integrity=" not in new and "crossorigin" not in new
    local = {name for _, name in publish_offline.CDN_TO_LOCAL}
    for name in local:
        assert f'"vendor/{name}"' in new


def test_publish_offline_reports_unknown_cdn(publish_offline):
    html = ('<html><script src="https://cdn.example.org/lib/thing.js" '
            'integrity="sha256-x" crossorigin="anonymous"></script>'
            '<link rel="stylesheet" href="local.css"></html>')
    new, unknown = publish_offline.rewrite_html(html)
    assert unknown == ["//cdn.example.org/lib/thing.js"]
    assert publish_offline.external_refs(new) == [
        'src="https://cdn.example.org/lib/thing.js"']
