"""Single-image 3x3 filter, 2048^2: the DW3 band driver against the ROWS
driver and cv2.filter2D, interleaved medians in one process.  Rows: the
front end (fastconv.convolve 'same'), _engine.correlate with ROWS forced
and the guard scan (before the bands), DW3 with the separate guard scan,
DW3 with the guard folded into its copy, and each kernel alone (guard off).
Checks every fastconv variant bitwise against the ROWS kernel first.

    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000 \\
    flock /tmp/fastconv-bench.lock python build_tools/bench_dw3_bands.py 2 41

(arguments: threads, repeats)
"""
import time, sys, numpy as np, cv2
import fastconv
from fastconv import _engine
T=int(sys.argv[1]); R=int(sys.argv[2]) if len(sys.argv)>2 else 21
cv2.setNumThreads(T)
rng=np.random.default_rng(0)
kw=dict(stride=(1,1),dilation=(1,1),pads=((1,1),(1,1)))
for dt in ("float32","float64"):
    img=rng.standard_normal((2048,2048)).astype(dt); ker=rng.standard_normal((3,3)).astype(dt)
    kf=np.ascontiguousarray(ker[::-1,::-1]); x4=img[None,None]; w4=kf[None,None]
    def eng(force, guard, fold=True):
        def f():
            _engine._UNFUSED_FALLBACK[0]=guard; _engine._FOLD_GUARD[0]=fold
            try: return _engine.correlate(x4,w4,nthreads=T,force=force,**kw)[0,0]
            finally: _engine._UNFUSED_FALLBACK[0]=True; _engine._FOLD_GUARD[0]=True
        return f
    fns={"convolve(after)":lambda: fastconv.convolve(img,ker,'same',workers=T) if 'workers' in fastconv.convolve.__code__.co_varnames else fastconv.convolve(img,ker,'same'),
         "eng rows+guard(before)":eng({"dw3":False},True),
         "eng dw3+scan(commit1)":eng({},True,False),
         "eng dw3+folded(commit2)":eng({},True),
         "kernel rows(before)":eng({"dw3":False},False),
         "kernel dw3(after)":eng({},False),
         "cv2":lambda: cv2.filter2D(img,-1,kf,borderType=cv2.BORDER_CONSTANT)}
    ref=fns["kernel rows(before)"]()
    for n,f in fns.items():
        g=f()
        if n!="cv2": assert np.array_equal(ref.view(np.uint8), np.ascontiguousarray(g).view(np.uint8)), n
    for _ in range(2):
        for f in fns.values(): f()
    ts={n:[] for n in fns}
    for _ in range(R):
        for n,f in fns.items():
            t0=time.perf_counter(); f(); ts[n].append(time.perf_counter()-t0)
    med={n:np.median(v)*1e3 for n,v in ts.items()}
    print(f"{dt} threads={T} path={_engine.plan_correlate(x4.shape,w4.shape,x4.dtype,**kw).path} band={_engine.plan_correlate(x4.shape,w4.shape,x4.dtype,**kw).consts.get('band')}")
    for n,v in med.items(): print(f"  {n:24s} {v:7.2f} ms  cv2/this {med['cv2']/v:5.2f}")
