"""``python -m fastconv``: help texts, section names, progress lines, --plot.

Nothing here times anything: the benchmark's numbers are checked by running
it, not by the test suite.  The pieces tested are those a reader relies on:
plain-text help, sections chosen by name, one progress line per workload
when the output is not a terminal, and a PNG from ``--plot``.
"""

import io
import re
import types

import pytest

from fastconv import __main__ as cli
from fastconv import _bench


@pytest.mark.parametrize("argv", [["--help"], ["bench", "--help"], ["info", "--help"],
                                  ["check", "--help"]])
def test_help_is_plain_text(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m fastconv")
    for markup in ("``", ":func:", ":class:", ":doc:", ".. "):
        assert markup not in out, markup


def test_bench_help_names_the_sections_and_explains_the_ratio(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    out = capsys.readouterr().out
    for name, _ in _bench.SECTIONS.values():
        assert re.search(rf"^  {name}\s+\S", out, flags=re.M), name
    assert "peer time / fastconv time" in " ".join(out.split())
    assert "--plot FILE" in out


def test_sections_by_name_in_canonical_order():
    assert _bench.parse_sections("cnn,filter2d") == ["A", "D"]
    assert _bench.parse_sections("all") == list(_bench.SECTIONS)
    assert _bench.parse_sections(None) == list(_bench.SECTIONS)
    assert _bench.parse_sections("scaling, signal1d") == ["B", "E"]
    assert _bench.parse_sections("c") == ["C"]           # the old one-letter ids


def test_unknown_section_is_refused(capsys):
    with pytest.raises(ValueError, match="--sections: unknown section 'fft'; choose from "
                                         "filter2d, signal1d, volume3d, cnn, scaling"):
        _bench.parse_sections("filter2d,fft")
    assert cli.main(["bench", "--sections", "fft"]) == 2
    assert "unknown section 'fft'" in capsys.readouterr().err


def test_progress_prints_a_line_per_workload_when_not_a_terminal():
    stream = io.StringIO()
    prog = _bench.Progress(3, stream=stream)
    for label in ("filter2d: a", "filter2d: b", "scaling: c"):
        prog.step(label)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"\[1/3\] \d+s done: filter2d: a", lines[0])
    assert re.fullmatch(r"\[3/3\] \d+s done: scaling: c", lines[2])


def test_machine_label_names_the_cpu_and_flags_a_busy_run():
    data = {"config": {"threads": 2, "simd": {"level": "avx2", "cpu_supports": "avx512"}},
            "machine": {"cpu": "Some CPU 9000", "busy": True}}
    label = _bench.machine_label(data)
    assert label.startswith("Some CPU 9000; the CPU supports avx512, kernels ran at avx2")
    assert "machine busy" in label
    assert "not recorded" in _bench.machine_label({"config": {}})


def test_plot_writes_a_png_with_a_panel_per_section(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    # a made-up results object for this test only: the chart must draw it
    rows = [{"section": "A", "workload": "w1", "fastconv_s": 0.5, "peers": {"p": 1.0}},
            {"section": "A", "workload": "w2", "fastconv_s": 0.5, "peers": {"p": 0.25}},
            {"section": "D", "workload": "w3", "fastconv_s": 0.1, "peers": {"q": 0.2}}]
    data = {"config": {"threads": 2, "simd": {"level": "avx512"}},
            "machine": {"cpu": "Test CPU"}, "results": rows}
    one = tmp_path / "one.png"
    _bench.save_plot({**data, "results": rows[:2]}, str(one))
    two = tmp_path / "two.png"
    _bench.save_plot(data, str(two))
    with open(two, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    # two sections are stacked: taller than the one-section chart
    assert imread(str(two)).shape[0] > imread(str(one)).shape[0]
    with pytest.raises(ValueError, match="--plot: no speed-ups to plot"):
        _bench.save_plot({**data, "results": []}, str(tmp_path / "none.png"))


def test_peer_isa_sets_the_peers_variables_before_they_load(monkeypatch):
    """--peer-isa avx2 re-executes the benchmark with PyTorch's oneDNN and ATen
    capped at AVX2 (and glibc's malloc settings); native needs only the malloc
    settings; nothing when the environment already has them.  The header
    names what the peers run."""
    for k in list(_bench.MALLOC_ENV) + list(_bench.PEER_ISA_ENV["avx2"]):
        monkeypatch.delenv(k, raising=False)
    assert _bench.reexec_env("native") == _bench.MALLOC_ENV
    env = _bench.reexec_env("avx2")
    assert env["ONEDNN_MAX_CPU_ISA"] == "AVX2" and env["ATEN_CPU_CAPABILITY"] == "avx2"
    assert _bench.peer_isa_text() == "peers: their own SIMD dispatch"
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert _bench.reexec_env("avx2") == {} and _bench.reexec_env("native") == {}
    assert "ONEDNN_MAX_CPU_ISA=AVX2" in _bench.peer_isa_text()
    seen = []
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.delenv("FASTCONV_BENCH_NO_REEXEC", raising=False)
    monkeypatch.setattr(_bench.os, "execve", lambda exe, argv, e: seen.append((argv, e)))
    _bench._maybe_reexec(["--peer-isa", "avx2"], "avx2")
    assert seen and seen[0][1]["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert seen[0][0][-2:] == ["--peer-isa", "avx2"]


def test_bench_help_offers_peer_isa(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    assert "--peer-isa {native,avx2}" in capsys.readouterr().out


def test_settle_threads_waits_while_another_thread_computes(monkeypatch):
    """The bench waits for peers' spinning thread pools (see settle_threads):
    it does not call the process settled while another thread's CPU ticks
    grow, and does once two readings agree.  The readings are scripted and
    the waits skipped, so nothing here depends on the machine's speed."""
    now = iter(range(10 ** 6))                                 # a scripted clock: 1 s a reading
    monkeypatch.setattr(_bench, "time", types.SimpleNamespace(
        sleep=lambda s: None, perf_counter=lambda: float(next(now))))
    busy = iter({"7": t} for t in range(10 ** 6))            # ticks always growing
    monkeypatch.setattr(_bench, "_other_threads_ticks", lambda: next(busy))
    assert _bench.settle_threads(timeout=5.0) is False
    assert next(busy) == {"7": 5}                             # polled until the timeout, never settled
    readings = iter([{"7": 3, "8": 1}, {"7": 5, "8": 1}, {"7": 5, "8": 1}])
    monkeypatch.setattr(_bench, "_other_threads_ticks", lambda: next(readings))
    assert _bench.settle_threads(timeout=60.0) is True
    assert next(readings, None) is None                       # settled on the third reading


@pytest.mark.skipif(_bench._other_threads_ticks() is None,
                    reason="threads' CPU times need Linux's /proc/self/task")
def test_other_threads_ticks_lists_the_other_threads():
    """/proc/self/task is read for every thread but the caller."""
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        ticks = _bench._other_threads_ticks()
    finally:
        stop.set()
        t.join()
    assert str(t.native_id) in ticks
    assert str(threading.get_native_id()) not in ticks
    assert all(isinstance(v, int) and v >= 0 for v in ticks.values())
