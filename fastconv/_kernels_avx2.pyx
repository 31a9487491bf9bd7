# The "avx2" build of fastconv's direct kernels.  The code lives in
# _kernels.pxi; setup.py compiles this stub with the flags of the level.
include "_kernels.pxi"
