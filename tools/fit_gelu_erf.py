#!/usr/bin/env -S /usr/bin/python3
"""fit_gelu_erf.py: the rational erf of the vector GELU (kernels/ref/math.hpp, gelu_erf).

Fits erf(u) ~= u P(u^2) / Q(u^2), deg P = deg Q = 5 in u^2, Q(0) = 1, on [0, 3.925] (past it erf
rounds to 1 in float; the kernels clamp the result to [-1, 1]): linear least squares on P - erf Q, reweighted
(Lawson) towards the minimax error and by 1 / Q. Prints the coefficients and the max |error| of the
fit in double precision; the kernels' float error is measured by tests/kernels/test_vector_math.cpp. Needs
numpy only. Run: tools/fit_gelu_erf.py (Debian's /usr/bin/python3 has numpy).
"""

import math

import numpy as np

CLAMP = 3.925
DEG_P, DEG_Q = 5, 5


def fit(iters=60):
    u = np.unique(np.concatenate([np.linspace(0.0, CLAMP, 6000), CLAMP * np.sin(np.linspace(0, np.pi / 2, 3000))]))
    s = u * u
    f = np.array([math.erf(x) for x in u])
    w = np.ones_like(u)
    best = None
    for _ in range(iters):
        cols = [u * s**i for i in range(DEG_P + 1)] + [-f * s**j for j in range(1, DEG_Q + 1)]
        a = np.stack(cols, axis=1)
        c, *_ = np.linalg.lstsq(a * w[:, None], f * w, rcond=None)
        p = sum(c[i] * s**i for i in range(DEG_P + 1)) * u
        q = 1 + sum(c[DEG_P + j] * s**j for j in range(1, DEG_Q + 1))
        err = p / q - f
        m = float(np.max(np.abs(err)))
        if best is None or m < best[0]:
            best = (m, c.copy())
        w = w * (np.abs(err) / m + 1e-3) ** 0.5 / np.abs(q)
        w = w / np.max(w)
    return best


def main():
    m, c = fit()
    print("max |erf - u P / Q| on [0, %.3f]: %.3g" % (CLAMP, m))
    print("P:", ", ".join("%.17g" % v for v in c[: DEG_P + 1]))
    print("Q: 1, " + ", ".join("%.17g" % v for v in c[DEG_P + 1 :]))


if __name__ == "__main__":
    main()
