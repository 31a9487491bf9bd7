"""The build-time OpenMP probe's decision and the SIMD dispatch."""

import os
import pathlib
import subprocess
import sys
import warnings

import pytest

import fastconv
from fastconv import _dispatch

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROBE_DIR = ROOT / "build_tools"
have_probe = (PROBE_DIR / "openmp_probe.py").exists()
needs_probe = pytest.mark.skipif(not have_probe, reason="build_tools/ not beside the tests")


@pytest.fixture
def probe(monkeypatch):
    monkeypatch.syspath_prepend(str(PROBE_DIR))
    import openmp_probe
    monkeypatch.delenv("FASTCONV_OPENMP", raising=False)
    monkeypatch.delenv("FASTCONV_FAIL_NO_OPENMP", raising=False)
    return openmp_probe


def real_compiler():
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler
    cc = new_compiler()
    customize_compiler(cc)
    return cc


class BrokenCompiler:
    """A compiler whose every compile fails, like one without OpenMP support."""
    compiler_type = "unix"

    def compile(self, *args, **kwargs):
        from setuptools._distutils.errors import CompileError
        raise CompileError("omp.h: No such file or directory")

    def link_executable(self, *args, **kwargs):  # pragma: no cover - never reached
        raise AssertionError


@needs_probe
def test_probe_disabled_by_env(probe, monkeypatch):
    monkeypatch.setenv("FASTCONV_OPENMP", "0")
    enabled, reason = probe.decide_openmp(BrokenCompiler())
    assert enabled is False
    assert "FASTCONV_OPENMP=0" in reason


@needs_probe
def test_probe_failure_warns_and_builds_serial(probe):
    with pytest.warns(UserWarning, match="WITHOUT OpenMP"):
        enabled, reason = probe.decide_openmp(BrokenCompiler())
    assert enabled is False
    assert "omp.h" in reason


@needs_probe
def test_probe_failure_is_an_error_when_asked(probe, monkeypatch):
    monkeypatch.setenv("FASTCONV_FAIL_NO_OPENMP", "1")
    with pytest.raises(RuntimeError, match="FASTCONV_FAIL_NO_OPENMP=1"):
        probe.decide_openmp(BrokenCompiler())


@needs_probe
@pytest.mark.skipif(sys.platform != "linux", reason="gcc + libgomp expected on Linux")
def test_probe_succeeds_with_this_compiler(probe):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enabled, reason = probe.decide_openmp(real_compiler())
    assert enabled is True, reason


@needs_probe
def test_env_flag_parsing(probe, monkeypatch):
    for value, expected in [("0", False), ("false", False), ("OFF", False), ("1", True),
                            ("yes", True), ("", True)]:
        monkeypatch.setenv("FASTCONV_X", value)
        assert probe.env_flag("FASTCONV_X", True) is expected


def test_dispatch_picks_best_supported_level():
    levels = _dispatch.supported_levels()
    assert "baseline" in levels
    if not os.environ.get("FASTCONV_SIMD"):
        assert _dispatch.LEVEL == levels[-1]
    assert _dispatch.kernels.simd_level() == _dispatch.LEVEL


def test_forcing_an_unknown_level_fails_at_import():
    env = dict(os.environ, FASTCONV_SIMD="sse9")
    res = subprocess.run([sys.executable, "-c", "import fastconv"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert res.returncode != 0
    assert "FASTCONV_SIMD must be one of baseline, avx2, avx512, got 'sse9'" in res.stderr


@pytest.mark.parametrize("level", _dispatch.supported_levels())
def test_forced_level_is_reported(level):
    env = dict(os.environ, FASTCONV_SIMD=level)
    code = ("import fastconv; c = fastconv.show_config(False); "
            "print(c['simd']['level'], c['simd']['forced'])")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [level, "True"]


def test_no_native_or_fast_math_flags():
    flags = fastconv._openmp.build_flags()
    assert "-march=native" not in flags
    assert "fast-math" not in flags


def test_self_check_cli_passes():
    res = subprocess.run([sys.executable, "-m", "fastconv", "check"], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert " 0 failed" in res.stdout
