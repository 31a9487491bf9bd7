# Fused element types shared by every kernel module.
#
# ``floating`` is what the CNN kernels compute in.  ``numeric`` adds unsigned
# 64-bit integers: the SciPy front-end maps every integer dtype onto them so
# sums wrap modulo 2**64 exactly like C integer arithmetic, and the final cast
# to the result dtype reproduces SciPy's wrap-around bit for bit.

ctypedef fused floating:
    float
    double

ctypedef fused numeric:
    float
    double
    unsigned long long
