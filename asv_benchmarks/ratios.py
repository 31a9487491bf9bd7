"""Speed-ups of fastconv over its peers, from one commit's asv results.

``asv compare`` compares one benchmark across two commits; this script
compares benchmarks *within* one run, the way the benchmarks page states its
targets: "speed-up" = peer time / fastconv time, measured in the same run
on the same inputs.  For every fastconv ``time_`` benchmark (classes named
``*Fastconv``) it finds the peer ``time_`` benchmarks of the same module and
matches them on the parameters they share (``kernel``, ``dtype``, and
``workers`` for threaded peers), and it prints the 1 -> n thread scaling of
fastconv itself.

Usage, from ``asv_benchmarks/`` after ``asv run``::

    python ratios.py                  # newest recorded commit, this machine
    python ratios.py --commit 1a2b3c4d --machine mybox
"""

import argparse
import itertools
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_conf():
    with open(os.path.join(HERE, "asv.conf.json")) as fh:
        text = "\n".join(line for line in fh.read().splitlines()
                         if not line.strip().startswith("//"))
    return json.loads(text)


def load_runs(results_dir, machine, commit):
    """``{benchmark name: {param tuple: seconds}}`` for one commit (all envs merged)."""
    from asv.results import Results

    machine_dir = os.path.join(results_dir, machine)
    files = [f for f in os.listdir(machine_dir)
             if f.endswith(".json") and f != "machine.json"]
    if commit is None:  # newest by commit date
        loaded = [Results.load(os.path.join(machine_dir, f), machine_name=machine)
                  for f in files]
        if not loaded:
            raise SystemExit(f"no results in {machine_dir}")
        commit = max(loaded, key=lambda r: r.date or 0).commit_hash
    runs = {}
    for f in files:
        if not f.startswith(commit[:8]):
            continue
        res = Results.load(os.path.join(machine_dir, f), machine_name=machine)
        for key in res.get_all_result_keys():
            params = res.get_result_params(key)
            values = res.get_result_value(key, params)
            if not params:
                runs.setdefault(key, {})[()] = values
                continue
            for combo, value in zip(itertools.product(*params), values):
                if value is not None:
                    runs.setdefault(key, {})[combo] = value
    if not runs:
        raise SystemExit(f"no results for commit {commit} in {machine_dir}")
    return commit, runs


def speedups(runs, benchmarks):
    """Rows ``(workload, params, peer, peer_s, fastconv_s, ratio)``."""
    rows = []
    for name in sorted(runs):
        module, cls, method = name.split(".")
        if not (cls.endswith("Fastconv") and method.startswith("time_")):
            continue
        fc_names = benchmarks[name]["param_names"]
        for peer in sorted(runs):
            p_module, p_cls, p_method = peer.split(".")
            if p_module != module or p_cls == cls or not p_method.startswith("time_"):
                continue
            p_names = benchmarks[peer]["param_names"]
            if not set(p_names) <= set(fc_names):
                continue
            for combo, fc_time in runs[name].items():
                given = dict(zip(fc_names, combo))
                key = tuple(given[n] for n in p_names)
                peer_time = runs[peer].get(key)
                if peer_time:
                    label = ", ".join(f"{n}={v}" for n, v in given.items())
                    rows.append((module, label, f"{p_cls}.{p_method}", peer_time, fc_time,
                                 peer_time / fc_time))
    return rows


def scaling(runs, benchmarks):
    """Rows ``(benchmark, params, serial_s, threaded_s, ratio)`` over ``workers``."""
    rows = []
    for name in sorted(runs):
        names = benchmarks[name]["param_names"]
        if "workers" not in names or not name.split(".")[-1].startswith("time_"):
            continue
        if not name.split(".")[1].endswith("Fastconv"):
            continue
        iw = names.index("workers")
        by_rest = {}
        for combo, value in runs[name].items():
            rest = combo[:iw] + combo[iw + 1:]
            by_rest.setdefault(rest, {})[int(combo[iw])] = value
        for rest, times in by_rest.items():
            if 1 in times and len(times) > 1:
                top = max(times)
                label = ", ".join(f"{n}={v}" for n, v in
                                  zip([n for n in names if n != "workers"], rest))
                rows.append((name, label, times[1], times[top], times[1] / times[top], top))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", help="commit hash prefix (default: newest recorded)")
    parser.add_argument("--machine", help="asv machine name (default: the only one)")
    args = parser.parse_args(argv)
    conf = _load_conf()
    results_dir = os.path.join(HERE, conf.get("results_dir", "results"))
    machines = sorted(d for d in os.listdir(results_dir)
                      if os.path.isdir(os.path.join(results_dir, d)))
    machine = args.machine or (machines[0] if len(machines) == 1 else None)
    if machine is None:
        raise SystemExit(f"several machines recorded ({', '.join(machines)}): use --machine")
    with open(os.path.join(results_dir, "benchmarks.json")) as fh:
        benchmarks = json.load(fh)
    commit, runs = load_runs(results_dir, machine, args.commit)
    print(f"# fastconv speed-ups, commit {commit[:8]}, machine {machine}")
    print("# speed-up = peer time / fastconv time (higher is better)\n")
    print(f"{'workload':18s} {'parameters':50s} {'peer':40s} {'peer':>10s} "
          f"{'fastconv':>10s} {'speed-up':>9s}")
    for module, label, peer, pt, ft, ratio in speedups(runs, benchmarks):
        print(f"{module:18s} {label:50s} {peer:40s} {pt * 1e3:8.2f}ms {ft * 1e3:8.2f}ms "
              f"{ratio:8.2f}x")
    print("\n# thread scaling of fastconv: time(workers=1) / time(workers=n)\n")
    for name, label, t1, tn, ratio, top in scaling(runs, benchmarks):
        print(f"{name:55s} {label:28s} 1->{top}: {ratio:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
