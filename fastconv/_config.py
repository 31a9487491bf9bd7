"""Build and runtime facts: ``fastconv.show_config()``."""

import os
import sys


from fastconv import _dispatch, _threads  # noqa: E402
from fastconv._threads import _openmp  # noqa: E402

_OMP_NAMES = ("libgomp", "libomp", "libiomp", "vcomp", "libgomp-")


def _openmp_runtime():
    """Path (or name) of the OpenMP runtime loaded in this process, or None."""
    if not _openmp.openmp_enabled():
        return None
    maps = "/proc/self/maps"
    if os.path.exists(maps):
        try:
            with open(maps) as fh:
                for line in fh:
                    path = line.split()[-1] if line.strip() else ""
                    base = os.path.basename(path)
                    if base.startswith(_OMP_NAMES) and ".so" in base:
                        return path
        except OSError:  # pragma: no cover
            pass
    try:  # macOS / Windows
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("user_api") == "openmp":
                return info.get("filepath") or info.get("prefix")
    except Exception:  # pragma: no cover - threadpoolctl missing or failing
        pass
    return "unknown"


def _runtime_short_name(path):
    if not path:
        return None
    base = os.path.basename(path)
    for name in ("libgomp", "libiomp5", "libomp", "vcomp"):
        if base.startswith(name):
            return name
    return base


def config_dict():
    """The facts :func:`show_config` prints, as a dict."""
    from fastconv import __version__

    runtime = _openmp_runtime()
    return {
        "version": __version__,
        "python": sys.version.split()[0],
        "openmp": {
            "enabled": _openmp.openmp_enabled(),
            "runtime": runtime,
            "version": _openmp.openmp_version(),
        },
        "threads": _threads.max_threads(),
        "threads_now": _threads.default_threads(),
        "busy_cores": round(_threads.busy_cores(), 2),
        "usable_cpus": _threads.usable_cpus(),
        "simd": {
            "level": _dispatch.LEVEL,
            "cpu_supports": _dispatch.CPU_LEVEL,
            "built": list(_dispatch.AVAILABLE),
            "forced": bool(os.environ.get("FASTCONV_SIMD")),
        },
        "compiler": _openmp.compiler_version(),
        "build_flags": _openmp.build_flags(),
    }


def format_lines(cfg):
    """One human-readable line per item."""
    omp = cfg["openmp"]
    if omp["enabled"]:
        omp_line = f"enabled ({_runtime_short_name(omp['runtime'])}, {omp['runtime']})"
    else:
        omp_line = "disabled (serial build)"
    simd = cfg["simd"]
    simd_line = (f"{simd['level']} (CPU supports {simd['cpu_supports']}; built: "
                 f"{', '.join(simd['built'])}{'; forced by FASTCONV_SIMD' if simd['forced'] else ''})")
    return [
        f"fastconv: {cfg['version']}",
        f"Python: {cfg['python']}",
        f"OpenMP: {omp_line}",
        f"Threads: {cfg['threads']} (workers=None on an idle machine; usable CPUs: "
        f"{cfg['usable_cpus']}; now {cfg['threads_now']}: other processes keep "
        f"{cfg['busy_cores']} cores busy)",
        f"SIMD: {simd_line}",
        f"Compiler: {cfg['compiler']}",
        f"Build flags: {cfg['build_flags'] or '(default)'}",
    ]


def show_config(print_out=True):
    """Print and return how fastconv was built and what it will use.

    Parameters
    ----------
    print_out : bool, optional
        Print one item per line (default True).

    Returns
    -------
    dict
        ``version``, ``python``, ``openmp`` (``enabled``, ``runtime``: path of
        the OpenMP library in use, ``version``), ``threads`` (what
        ``workers=None`` resolves to on an idle machine), ``threads_now`` (what
        it resolves to now, leaving out the cores other processes keep busy),
        ``busy_cores`` (that load), ``usable_cpus``, ``simd`` (the
        dispatched kernel level and what the CPU supports), ``compiler`` and
        ``build_flags``.

    See Also
    --------
    numpy.show_config, scipy.show_config

    Examples
    --------
    >>> import fastconv
    >>> cfg = fastconv.show_config(print_out=False)
    >>> sorted(cfg)[:4]
    ['build_flags', 'busy_cores', 'compiler', 'openmp']
    >>> cfg["threads"] >= 1
    True
    """
    cfg = config_dict()
    if print_out:
        print("\n".join(format_lines(cfg)))
    return cfg
