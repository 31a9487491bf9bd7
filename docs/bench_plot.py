"""Turn ``python -m fastconv bench --json FILE`` output into the benchmarks page.

Called by ``docs/conf.py`` while the docs build::

    write_results_fragment("docs/_static/bench/results.json",
                           "docs/_generated/bench_results.inc",
                           "docs/_generated/bench")

If the JSON file exists, one bar chart per section (2-D filtering, 1-D
signals, 3-D volumes, CNN layers) of the speed-up over each peer (peer time /
fastconv time, measured in the same run) is drawn with the same function as
``python -m fastconv bench --plot`` (``fastconv._bench.speedup_figure``), each
titled with the CPU it was measured on, and the scaling section becomes a
table.  If it
does not exist, the fragment says that no results are recorded; nothing is
ever made up.

Run by hand to check a file: ``python docs/bench_plot.py results.json outdir``.
"""

import json
import os
import sys

from fastconv._bench import SECTIONS, machine_label, speedup_figure

SECTION_TITLES = {key: title for key, (_, title) in SECTIONS.items()}


def load(path):
    """The parsed JSON, checked for the keys the page uses."""
    with open(path) as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ValueError(f"{path}: expected an object with a 'results' list "
                         "(the output of `python -m fastconv bench --json FILE`)")
    for row in data["results"]:
        for key in ("section", "workload", "fastconv_s", "peers"):
            if key not in row:
                raise ValueError(f"{path}: a result lacks {key!r}: {row!r}")
    return data


def section_figure(rows, title, machine=None):
    """Horizontal bars: speed-up of fastconv over every peer, per workload."""
    return speedup_figure(rows, title, machine)


def _rst_table(header, rows):
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for cells in [header] + rows:
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {c}" for c in cells[1:]]
    return lines + [""]


def fragment_lines(data, image_paths):
    """The reST of the results part of the page."""
    cfg = data.get("config") or {}
    simd = (cfg.get("simd") or {}).get("level", "?")
    omp = "on" if (cfg.get("openmp") or {}).get("enabled") else "off"
    machine = data.get("machine") or {}
    lines = [
        f"**Measured on:** {machine_label(data)}.",
        "",
        "Results of ``python -m fastconv bench``: fastconv "
        f"{cfg.get('version', '?')}, OpenMP {omp}, {cfg.get('threads', '?')} threads, "
        f"SIMD level {simd}; "
        + ("*quick* (reduced) sizes" if data.get("quick") else "the full sizes")
        + f", median of {data.get('repeats', '?')} repeats after a warm-up.",
        "",
    ]
    if machine.get("note"):
        lines += [str(machine["note"]), ""]
    if machine.get("busy"):
        lines += [".. warning::", "",
                  "   The machine was busy during this run (other processes took CPU "
                  "time): the ratios below are not trustworthy.", ""]
    for section, path in image_paths:
        lines += [SECTION_TITLES.get(section, section), "^" * len(SECTION_TITLES.get(section, section)), "",
                  f".. image:: {path}", f"   :alt: speed-ups, section {section}", ""]
        rows = [r for r in data["results"] if r["section"] == section]
        table = []
        for r in rows:
            peers = ", ".join(f"{p} {t / r['fastconv_s']:.2f}x" for p, t in r["peers"].items())
            gflops = r.get("gflops")
            table.append([r["workload"], f"{r['fastconv_s'] * 1e3:.2f} ms",
                          f"{gflops:.1f}" if isinstance(gflops, (int, float)) else "",
                          peers or "(no peer installed)"])
        lines += _rst_table(["workload", "fastconv", "GFLOP/s", "speed-up over"], table)
        planned = [r for r in rows if isinstance(r.get("planner"), dict)
                   and isinstance(r.get("methods"), dict)]
        if planned:
            lines += ["The planner (``method='auto'``, the *fastconv* column above) against "
                      "fastconv's own methods in the same run: auto's time over the "
                      "fastest method's (target <= 1.25).", ""]
            table = [[r["workload"], f"{r['planner']['auto_over_best']:.2f}x",
                      str(r["planner"].get("best", "?")),
                      ", ".join(f"{m} {t * 1e3:.2f} ms" for m, t in r["methods"].items())]
                     for r in planned]
            lines += _rst_table(["workload", "auto / fastest", "fastest", "methods"], table)
    scaling = data.get("scaling") or []
    if scaling:
        title = SECTION_TITLES["E"]
        lines += [title, "^" * len(title), ""]
        table = [[s.get("workload", "?"), f"{s.get('t1', 0) * 1e3:.2f} ms",
                  f"{s.get('t2', 0) * 1e3:.2f} ms", f"{s.get('scaling', 0):.2f}x",
                  (f"{s['scaling_blocks']:.2f}x" if "scaling_blocks" in s else "-"),
                  str(s.get("bitwise_identical", "?")),
                  f"{s.get('extra_peak_over_input', 0):.2f}x"] for s in scaling]
        lines += _rst_table(["workload", "1 thread", "2 threads", "1 -> 2 (call by call)",
                             "1 -> 2 (in blocks)", "bitwise identical",
                             "extra peak memory / input"], table)
    return lines


def no_results_lines(json_path):
    """The note shown where a results file does not exist (yet)."""
    name = os.path.basename(json_path)
    return [
        ".. note::",
        "",
        "   No benchmark results are recorded for this machine in this build of the",
        "   documentation.  To add them, run the benchmark on such a machine and",
        "   rebuild::",
        "",
        f"       python -m fastconv bench --json docs/_static/bench/{name} "
        f"--plot speedups.png",
        "       bash build_tools/ci_docs.sh",
        "",
    ]


def write_results_fragment(json_path, fragment_path, image_dir, image_ref_prefix):
    """Write the reST fragment (and the figures) for the benchmarks page.

    `image_ref_prefix` is how the page refers to `image_dir` (a path from the
    documentation's source root, starting with ``/``).  Returns True when
    results were found.
    """
    os.makedirs(os.path.dirname(fragment_path), exist_ok=True)
    if not os.path.exists(json_path):
        lines = no_results_lines(json_path)
        found = False
    else:
        data = load(json_path)
        os.makedirs(image_dir, exist_ok=True)
        images = []
        for section in [k for k in SECTIONS if any(r["section"] == k for r in data["results"])]:
            rows = [r for r in data["results"] if r["section"] == section]
            fig = section_figure(rows, SECTION_TITLES.get(section, section),
                                 machine_label(data))
            name = f"speedup_{section}.png"
            fig.savefig(os.path.join(image_dir, name), dpi=100)
            import matplotlib.pyplot as plt
            plt.close(fig)
            images.append((section, f"{image_ref_prefix}/{name}"))
        lines = fragment_lines(data, images)
        found = True
    text = "\n".join([".. Generated by docs/bench_plot.py; do not edit.", ""] + lines) + "\n"
    old = None
    if os.path.exists(fragment_path):
        with open(fragment_path) as fh:
            old = fh.read()
    if old != text:
        with open(fragment_path, "w") as fh:
            fh.write(text)
    return found


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python docs/bench_plot.py RESULTS.json OUTDIR")
    out = sys.argv[2]
    write_results_fragment(sys.argv[1], os.path.join(out, "bench_results.inc"), out, out)
    print(f"wrote {out}/bench_results.inc and its figures")
