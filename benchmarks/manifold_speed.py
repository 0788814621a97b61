"""Our Riemannian conjugate gradient against pymanopt's on the same theta-step problems.

Run from the repository root (pymanopt comes with the ``bench`` extra)::

    python -m benchmarks.manifold_speed      # M = 16, 64, 256; 20 problems alone, 256 batched
    python -m benchmarks.manifold_speed --elements 64 --problems 50 --out benchmarks/manifold.md

The problem is DOMALO's theta-step (spec 004 section 5.3): minimise the negated FP surrogate
-sum_k w~_k |c_kk + theta^T d_kk|^2 / (sum_j |c_kj + theta^T d_kj|^2 + 1) over the complex
circle, built from a model-004 realisation (one IRS of M elements, N_t = 16, K = 4, MRT
precoder, theta = 1 start) with :func:`irs_gym.models.multi_irs.affine_terms`. Both
optimisers get the same cost, Euclidean gradient and start point:

* ``ours``: :func:`baselines.manifold.conjugate_gradient` (Armijo backtracking, adaptive
  initial step, Polak-Ribiere+), one problem per call, as DOMALO runs it;
* ``ours batched``: :func:`baselines.manifold.conjugate_gradient_batch` on ``--batch``
  problems of the size in one call through :func:`baselines.multi_irs.domalo.theta_step`
  with a leading batch axis, as a batch of realisations is solved (each row gets the
  iterates it would get alone), time per problem = batch time / problems;
* ``pymanopt``: ``pymanopt.optimizers.ConjugateGradient`` on ``ComplexCircle(M)`` with its
  defaults (adaptive line search, Hestenes-Stiefel) and the same iteration cap.

Each runs once with the cap DOMALO uses (I_theta = 20 iterations) and once to convergence
(cap 500, gradient norm 1e-6). The table gives the median time per solve (batched: the
mean), the mean final cost of each and the time ratios pymanopt / ours, all measured in one
run. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from baselines.manifold import ComplexCircle, conjugate_gradient
from baselines.multi_irs.domalo import theta_cost, theta_egrad, theta_step
from benchmarks.common import emit, machine, markdown_table
from irs_gym.models import multi_irs as model


def problem(num_elements: int, seed: int):
    """(c, d, wt, theta0) of one theta-step instance."""
    cfg = model.MultiIRSConfig(num_irs=1, num_elements=num_elements)
    scen = model.sample_scenario(cfg, np.random.default_rng(seed))
    ch = model.normalized(cfg, scen)
    theta = np.ones(num_elements, dtype=complex)
    W = model.mrt_precoder(model.effective_channel(ch, theta), cfg.tx_power_w)
    gamma = model.sinr_from_gains(model.effective_channel(ch, theta) @ W)
    wt = cfg.weights_array * (1.0 + gamma)
    c, d = model.affine_terms(ch, theta, W)
    return c, d, wt, theta


def functions(c, d, wt):
    return (lambda x: theta_cost(x, c, d, wt)), (lambda x: theta_egrad(x, c, d, wt))


def run_ours(cost, egrad, x0, iterations: int) -> tuple[float, float]:
    start = time.perf_counter()
    res = conjugate_gradient(ComplexCircle, cost, egrad, x0, max_iterations=iterations)
    return time.perf_counter() - start, float(cost(res.x))


def run_batched(problems, iterations: int) -> tuple[float, np.ndarray]:
    """(seconds per problem, final costs) of one batched solve of every problem, through
    DOMALO's own batched theta-step."""
    c, d, wt, x0 = (np.stack(parts) for parts in zip(*problems, strict=True))
    start = time.perf_counter()
    x = theta_step(c, d, x0, wt, iterations)
    return (time.perf_counter() - start) / len(problems), theta_cost(x, c, d, wt)


def run_pymanopt(cost, egrad, x0, iterations: int) -> tuple[float, float]:
    import pymanopt
    from pymanopt.manifolds import ComplexCircle as PymanoptCircle
    from pymanopt.optimizers import ConjugateGradient

    manifold = PymanoptCircle(len(x0))

    @pymanopt.function.numpy(manifold)
    def f(x):
        return cost(x)

    @pymanopt.function.numpy(manifold)
    def grad(x):
        return egrad(x)

    prob = pymanopt.Problem(manifold, f, euclidean_gradient=grad)
    opt = ConjugateGradient(
        max_iterations=iterations, min_gradient_norm=1e-6, verbosity=0, log_verbosity=0
    )
    start = time.perf_counter()
    res = opt.run(prob, initial_point=x0.copy())
    return time.perf_counter() - start, float(cost(res.point))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument(
        "--problems", type=int, default=20, help="instances per size solved one by one"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=256,
        help="instances per size in the batched solve (its mean cost is over the first "
        "--problems of them, the ones the single-problem runs solve)",
    )
    parser.add_argument("--out", help="also write the table (markdown) to this file")
    args = parser.parse_args(argv)
    try:
        import pymanopt  # noqa: F401
    except ImportError:
        parser.error("pymanopt is not installed: pip install -e '.[bench]'")
    logging.getLogger("pymanopt").setLevel(logging.ERROR)
    rows = []
    for m in args.elements:
        problems = [problem(m, seed) for seed in range(max(args.problems, args.batch))]
        for label, cap in (("20 (DOMALO)", 20), ("to convergence", 500)):
            t_ours, t_pm, f_ours, f_pm, wins = [], [], [], [], 0
            for c, d, wt, x0 in problems[: args.problems]:
                cost, egrad = functions(c, d, wt)
                a = run_ours(cost, egrad, x0, cap)
                b = run_pymanopt(cost, egrad, x0, cap)
                t_ours.append(a[0])
                t_pm.append(b[0])
                f_ours.append(a[1])
                f_pm.append(b[1])
                wins += a[1] <= b[1] + 1e-9 * abs(b[1])
            t_batch, f_batch = run_batched(problems[: args.batch], cap)
            f_batch = f_batch[: args.problems]
            single, pm = statistics.median(t_ours), statistics.median(t_pm)
            rows.append(
                [
                    m,
                    label,
                    f"{1e3 * single:.3f}",
                    f"{1e3 * t_batch:.3f}",
                    f"{1e3 * pm:.3f}",
                    f"{pm / single:.1f}x",
                    f"{pm / t_batch:.1f}x",
                    f"{np.mean(f_ours):.5g}",
                    f"{np.mean(f_batch):.5g}",
                    f"{np.mean(f_pm):.5g}",
                    f"{wins}/{args.problems}",
                ]
            )
    table = markdown_table(
        [
            "M",
            "iterations",
            "ours ms",
            "ours batched ms",
            "pymanopt ms",
            "pymanopt / ours",
            "pymanopt / batched",
            "ours mean cost",
            "batched mean cost",
            "pymanopt mean cost",
            "ours <= pymanopt",
        ],
        rows,
    )
    emit(f"Machine: {machine()}.\n\n{table}", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
