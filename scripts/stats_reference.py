"""Reference values for benchcards' statistics from scipy and statsmodels.

Run by scripts/test.sh in a test-only virtual environment; prints JSON cases that
crates/benchcards-stats/tests/reference.rs checks to 1e-6. Where statsmodels has no function
(Newcombe's paired interval, Connor's formula, the exact McNemar test's power), the formula is
written here from the paper, with statsmodels' Wilson limits and scipy's quantiles, binomial
distribution and binomial test as the independent parts.
"""
import functools
import json
import math

import numpy as np

from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.contingency_tables import Table2x2, mcnemar
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (confint_proportions_2indep, proportion_confint,
                                          proportion_effectsize, proportions_ztest)

cases = []


def case(kind, args, expect):
    cases.append({"kind": kind, "args": args, "expect": [float(v) for v in expect]})


for x, n in [(81, 263), (15, 148), (0, 20), (20, 20), (568, 600), (204, 600), (1, 3)]:
    for conf in (0.95, 0.9):
        case("wilson", [x, n, conf], proportion_confint(x, n, alpha=1 - conf, method="wilson"))

for x1, n1, x2, n2 in [(56, 70, 48, 80), (9, 10, 3, 10), (568, 600, 497, 600), (0, 10, 0, 20), (10, 10, 0, 10)]:
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=0.05)
    case("newcombe_unpaired", [x1, n1, x2, n2, 0.95], [lo, hi])


def newcombe_paired(r, s, t, u, conf):
    n = r + s + t + u
    p1, p2 = (r + s) / n, (r + t) / n
    l1, u1 = proportion_confint(r + s, n, alpha=1 - conf, method="wilson")
    l2, u2 = proportion_confint(r + t, n, alpha=1 - conf, method="wilson")
    a = (r + s) * (t + u) * (r + t) * (s + u)
    b = r * u - s * t
    c = b - n / 2 if b > n / 2 else (b if b < 0 else 0)
    phi = c / math.sqrt(a) if a > 0 else 0.0
    d = p1 - p2
    lo = d - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    hi = d + math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    return max(lo, -1.0), min(hi, 1.0)


for r, s, t, u in [(385, 112, 0, 103), (36, 12, 2, 0), (20, 5, 8, 67), (0, 0, 0, 10), (5, 0, 0, 5)]:
    case("newcombe_paired", [r, s, t, u, 0.95], newcombe_paired(r, s, t, u, 0.95))

for b, c in [(1, 6), (12, 30), (40, 40), (0, 5), (112, 0)]:
    exact = mcnemar([[0, b], [c, 0]], exact=True).pvalue
    k, n = min(b, c), b + c
    mid = min(1.0, 2 * (stats.binom.cdf(k, n, 0.5) - 0.5 * stats.binom.pmf(k, n, 0.5)))
    case("mcnemar", [b, c], [exact, mid])

for x1, n1, x2, n2 in [(282, 600, 204, 600), (30, 100, 45, 120), (5, 50, 1, 60)]:
    z, pz = proportions_ztest([x1, x2], [n1, n2])
    chi2, pchi, _, _ = stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    case("two_proportion", [x1, n1, x2, n2], [z, pz, chi2, pchi])
    t = Table2x2([[x1, n1 - x1], [x2, n2 - x2]])
    lo, hi = t.oddsratio_confint(alpha=0.05, method="normal")
    case("odds_ratio", [x1, n1, x2, n2, 0.95], [t.oddsratio, lo, hi])

power = NormalIndPower()
for p1, p2, alpha, pw in [(0.5, 0.35, 0.05, 0.8), (0.47, 0.34, 0.05, 0.9), (0.9, 0.8, 0.01, 0.8), (0.2, 0.25, 0.05, 0.8)]:
    h = proportion_effectsize(p1, p2)
    n = power.solve_power(effect_size=h, alpha=alpha, power=pw, ratio=1.0, alternative="two-sided")
    case("n_independent", [p1, p2, alpha, pw], [h, n])
    case("power_independent", [p1, p2, 100.0, alpha], [power.power(effect_size=h, nobs1=100.0, alpha=alpha, ratio=1.0, alternative="two-sided")])

for p10, p01, alpha, pw in [(0.2, 0.1, 0.05, 0.8), (0.15, 0.05, 0.05, 0.9), (0.3, 0.25, 0.01, 0.8)]:
    psi, delta = p10 + p01, p10 - p01
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(pw)
    n = (za * math.sqrt(psi) + zb * math.sqrt(psi - delta ** 2)) ** 2 / delta ** 2
    case("n_paired", [p10, p01, alpha, pw], [n])

for p_new, p_ref, margin, alpha, pw in [(0.8, 0.8, 0.1, 0.025, 0.9), (0.6, 0.65, 0.1, 0.05, 0.8)]:
    var = (p_new * (1 - p_new) + p_ref * (1 - p_ref)) / 2
    es = (p_new - p_ref + margin) / math.sqrt(var)
    n = power.solve_power(effect_size=es, alpha=alpha, power=pw, ratio=1.0, alternative="larger")
    case("n_noninferiority", [p_new, p_ref, margin, alpha, pw], [n])

# The edges the power question allows: every pair discordant (p10 + p01 = 1), and a new arm
# worse than the reference but within the margin; an inferior arm's power stays below alpha.
for p10, p01, alpha, pw in [(0.6, 0.4, 0.05, 0.8), (0.3, 0.0, 0.05, 0.9)]:
    psi, delta = p10 + p01, p10 - p01
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(pw)
    case("n_paired", [p10, p01, alpha, pw], [(za * math.sqrt(psi) + zb * math.sqrt(psi - delta ** 2)) ** 2 / delta ** 2])
for p_new, p_ref, margin, alpha, pw in [(0.71, 0.8, 0.1, 0.05, 0.9)]:
    es = (p_new - p_ref + margin) / math.sqrt((p_new * (1 - p_new) + p_ref * (1 - p_ref)) / 2)
    case("n_noninferiority", [p_new, p_ref, margin, alpha, pw],
         [power.solve_power(effect_size=es, alpha=alpha, power=pw, ratio=1.0, alternative="larger")])
for p_new, p_ref, margin, n, alpha in [(0.71, 0.8, 0.1, 400.0, 0.05), (0.6, 0.8, 0.1, 1556.0, 0.05)]:
    es = (p_new - p_ref + margin) / math.sqrt((p_new * (1 - p_new) + p_ref * (1 - p_ref)) / 2)
    case("power_noninferiority", [p_new, p_ref, margin, n, alpha],
         [power.power(effect_size=es, nobs1=n, alpha=alpha, ratio=1.0, alternative="larger")])


# The exact conditional McNemar test: given d discordant pairs, scipy's two-sided binomial test
# at 1/2 rejects a count x when its p-value is at most alpha; the power sums, over d ~
# Binomial(n, p10 + p01), P(d) times the chance under p10 / (p10 + p01) of a count it rejects.
# The p-value at 1/2 is symmetric and falls as x moves away from d/2, so the rejected counts are
# x <= c and x >= d - c, c found by bisection with binomtest; for d up to 60 every count is
# tested as well, to show the two agree.
_critical = {}


def critical(d, alpha):
    """The largest count x < d/2 that binomtest rejects, or -1."""
    if (d, alpha) not in _critical:
        lo, hi = -1, (d - 1) // 2 + 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if stats.binomtest(mid, d, 0.5).pvalue <= alpha else (lo, mid)
        c = lo if d > 0 else -1
        if d <= 60:
            every = [x for x in range(d + 1) if d > 0 and stats.binomtest(x, d, 0.5).pvalue <= alpha]
            assert every == [x for x in range(d + 1) if x <= c or x >= d - c], (d, alpha, c, every)
        _critical[d, alpha] = c
    return _critical[d, alpha]


@functools.cache
def rejection(d, alpha, share):
    """P(the test rejects | d discordant pairs), a discordant pair right under the first only with chance share."""
    c = critical(d, alpha)
    return stats.binom.cdf(c, d, share) + stats.binom.sf(d - c - 1, d, share) if c >= 0 else 0.0


def exact_mcnemar_power(n, p10, p01, alpha):
    psi = p10 + p01
    reject = [rejection(d, alpha, p10 / psi) for d in range(n + 1)]
    return float(np.dot(stats.binom.pmf(np.arange(n + 1), n, psi), reject))


for p10, p01, n, alpha in [(0.2, 0.1, 100, 0.05), (0.15, 0.05, 60, 0.01), (0.4, 0.1, 7, 0.05), (0.6, 0.4, 30, 0.05),
                           (0.25, 0.0, 20, 0.05)]:
    case("power_paired_exact", [p10, p01, n, alpha], [exact_mcnemar_power(n, p10, p01, alpha)])
for p10, p01, alpha, pw in [(0.3, 0.05, 0.05, 0.8), (0.2, 0.1, 0.05, 0.8), (0.45, 0.15, 0.01, 0.9), (0.7, 0.3, 0.05, 0.8)]:
    n = next(n for n in range(1, 10_000) if exact_mcnemar_power(n, p10, p01, alpha) >= pw)
    case("n_paired_exact", [p10, p01, alpha, pw], [n])

# Fisher's exact test (two-sided), and the test an arm's comparison with the control uses:
# Pearson's chi-square when every expected count is at least 5, else Fisher's.
for a, b, c, d in [(3, 1, 1, 3), (1, 9, 11, 3), (1, 7, 282, 318), (0, 5, 5, 0), (10, 10, 10, 10), (2, 8, 8, 2),
                   (2, 30, 15, 20), (204, 396, 282, 318), (0, 0, 3, 4)]:
    case("fisher_exact", [a, b, c, d], [stats.fisher_exact([[a, b], [c, d]]).pvalue])
for x1, n1, x2, n2 in [(1, 8, 282, 600), (204, 600, 282, 600), (3, 10, 8, 12), (12, 40, 20, 45)]:
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    small = stats.contingency.expected_freq(table).min() < 5
    p = stats.fisher_exact(table).pvalue if small else stats.chi2_contingency(table, correction=False).pvalue
    case("independence_test", [x1, n1, x2, n2], [float(small), p])

# Holm's adjustment over several comparisons with one control.
for ps in [[0.01, 0.04, 0.03, 0.005], [0.5, 0.2, 0.9], [0.001, 0.02, 0.02, 0.3, 0.04], [0.03]]:
    case("holm", [ps], multipletests(ps, method="holm")[1])

sim = [0.52, 0.61, 0.48, 0.70, 0.55, 0.66, 0.59, 0.44, 0.63, 0.57]
hum = [0.30, 0.41, 0.33, 0.35, 0.29, 0.45, 0.31, 0.28, 0.37, 0.36]
lr = stats.linregress(sim, hum)
case("calibration", [sim, hum], [lr.slope, lr.stderr, lr.intercept, stats.spearmanr(sim, hum).statistic])

# The bootstrap's t-expansion: z' = t_{df, 1−α/2} for df = resampled elements − groups.
for conf, df in [(0.95, 9), (0.95, 49), (0.9, 29)]:
    z = stats.t.ppf(1 - (1 - conf) / 2, df)
    case("expanded_alpha", [conf, df], [2 * stats.norm.sf(z)])

# Heterogeneity across strata: DerSimonian–Laird by statsmodels, and the prediction interval
# of Higgins, Thompson & Spiegelhalter (2009), mean ± t_{k−2} √(τ² + SE²), as metafor's predict
# (none below three strata).
for y, v in [([0.12, 0.30, -0.05, 0.25, 0.40], [0.004, 0.006, 0.005, 0.003, 0.008]),
             ([0.1, 0.1, 0.1], [0.01, 0.02, 0.015]),
             ([0.0, 1.0], [0.1, 0.1])]:
    res = combine_effects(np.array(y), np.array(v), method_re="dl")
    tau2, i2, mean, se, k = res.tau2, res.i2, res.mean_effect_re, res.sd_eff_w_re, len(y)
    if tau2 < 0:
        # statsmodels leaves DerSimonian–Laird's τ² untruncated; the estimator truncates it at
        # 0, where the random-effects mean is the fixed-effect one.
        tau2, i2, mean, se = 0.0, 0.0, res.mean_effect_fe, res.sd_eff_w_fe
    z = stats.norm.ppf(0.975)
    pi = []
    if k >= 3:
        half = stats.t.ppf(0.975, k - 2) * math.sqrt(tau2 + se ** 2)
        pi = [mean - half, mean + half]
    case("dersimonian_laird", [y, v, 0.95], [res.q, i2, tau2, mean, mean - z * se, mean + z * se] + pi)

# Means with Student-t intervals, Welch's interval, the median and nearest-rank quantiles (the
# summaries `measure` reports).

samples = [[2, 4, 4, 4, 5, 5, 7, 9], [12.5, 3.0, 7.25, 40.0, 8.0], [1, 2], [0.3, 0.31, 0.29, 0.5, 0.05, 0.44]]
for xs in samples:
    for conf in (0.95, 0.9):
        lo, hi = stats.t.interval(conf, len(xs) - 1, loc=np.mean(xs), scale=stats.sem(xs))
        case("mean_t", [xs, conf], [np.mean(xs), lo, hi])
    case("median", [xs], [np.median(xs)])
    for q in (0.5, 0.9):
        case("quantile", [xs, q], [np.percentile(xs, q * 100, method="inverted_cdf")])
for a, b in [([2, 4, 4, 4, 5, 5, 7, 9], [12.5, 3.0, 7.25, 40.0, 8.0]), ([0.3, 0.31, 0.29, 0.5, 0.05, 0.44], [1, 2])]:
    r = stats.ttest_ind(a, b, equal_var=False)
    lo, hi = r.confidence_interval(0.95)
    case("welch", [a, b, 0.95], [np.mean(a) - np.mean(b), lo, hi])

# Cohen's kappa with its asymptotic standard error and Wald interval; the 2×2 tables include
# the meta-eval fixture's (crates/benchcards/tests/meta_eval.rs).
for table in [[[20, 5], [10, 15]], [[7, 2], [1, 2]], [[45, 15], [25, 15]], [[3, 1], [0, 4]],
              [[22, 5, 1], [4, 16, 3], [0, 2, 11]], [[10, 0, 3, 1], [2, 8, 1, 0], [1, 1, 9, 2], [0, 2, 1, 12]]]:
    for conf in (0.95, 0.9):
        r = cohens_kappa(np.array(table))
        half = stats.norm.isf((1 - conf) / 2) * r.std_kappa
        if conf == 0.95:
            assert abs(r.kappa_low - (r.kappa - half)) < 1e-12
        case("cohens_kappa", [conf, table], [r.kappa, r.std_kappa, r.kappa - half, r.kappa + half])

print(json.dumps({"cases": cases}, indent=1))
