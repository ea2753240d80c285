//! Checks every formula against reference values computed by scipy and statsmodels
//! (`scripts/stats_reference.py`, run by `scripts/test.sh` in a test-only virtual environment,
//! which sets BENCHCARDS_STATS_REFERENCE to the JSON it wrote).

use benchcards_stats::agreement::cohens_kappa;
use benchcards_stats::bootstrap::expanded_alpha;
use benchcards_stats::heterogeneity::dersimonian_laird;
use benchcards_stats::proportion::*;
use benchcards_stats::study::*;
use benchcards_stats::summary::{mean_t, median, quantile, welch};
use serde_json::Value;

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
#[ignore = "needs scipy and statsmodels: run scripts/test.sh"]
fn formulas_match_scipy_and_statsmodels() {
    let path =
        std::env::var("BENCHCARDS_STATS_REFERENCE").expect("BENCHCARDS_STATS_REFERENCE names the reference JSON (scripts/test.sh sets it)");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("reference JSON readable")).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert!(cases.len() > 100, "the reference covers every formula");
    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    for c in cases {
        let kind = c["kind"].as_str().unwrap();
        let a = &c["args"];
        let f = |i: usize| a[i].as_f64().unwrap();
        let expect = nums(&c["expect"]);
        let got: Vec<f64> = match kind {
            "wilson" => wilson(f(0), f(1), f(2)).to_vec(),
            "newcombe_unpaired" => newcombe_unpaired(f(0), f(1), f(2), f(3), f(4)).to_vec(),
            "newcombe_paired" => newcombe_paired(Paired { both: f(0), a_only: f(1), b_only: f(2), neither: f(3) }, f(4)).to_vec(),
            "mcnemar" => {
                let m = mcnemar(f(0) as u64, f(1) as u64);
                vec![m.exact_p, m.mid_p]
            }
            "two_proportion" => {
                let t = two_proportion_test(f(0), f(1), f(2), f(3));
                vec![t.z, t.z_p, t.chi2, t.chi2_p]
            }
            "odds_ratio" => {
                let o = odds_ratio(f(0), f(1), f(2), f(3), f(4));
                vec![o.or, o.ci[0], o.ci[1]]
            }
            "n_independent" => {
                let h = cohens_h(f(0), f(1));
                vec![h, n_independent(h, f(2), f(3))]
            }
            "power_independent" => vec![power_independent(cohens_h(f(0), f(1)), f(2), f(3))],
            "n_paired" => vec![n_paired(f(0), f(1), f(2), f(3))],
            "n_noninferiority" => vec![n_noninferiority(f(0), f(1), f(2), f(3), f(4))],
            "power_noninferiority" => vec![power_noninferiority(f(0), f(1), f(2), f(3), f(4))],
            "power_paired_exact" => vec![power_paired_exact(f(0), f(1), f(2) as u64, f(3))],
            "n_paired_exact" => vec![n_paired_exact(f(0), f(1), f(2), f(3)).expect("reached within the limit") as f64],
            "fisher_exact" => vec![fisher_exact(f(0) as u64, f(1) as u64, f(2) as u64, f(3) as u64)],
            "independence_test" => {
                let t = independence_test(f(0), f(1), f(2), f(3));
                vec![f64::from(u8::from(t.test == TableTest::FisherExact)), t.p]
            }
            "holm" => holm(&nums(&a[0])),
            "calibration" => {
                let c = calibration(&nums(&a[0]), &nums(&a[1])).unwrap();
                vec![c.slope, c.slope_se, c.intercept, c.spearman]
            }
            "expanded_alpha" => vec![expanded_alpha(f(0), f(1) as usize)],
            "dersimonian_laird" => {
                let h = dersimonian_laird(&nums(&a[0]), &nums(&a[1]), f(2)).unwrap();
                let mut v = vec![h.q, h.i2, h.tau2, h.mean, h.mean_ci[0], h.mean_ci[1]];
                v.extend(h.prediction.into_iter().flatten());
                v
            }
            "mean_t" => {
                let m = mean_t(&nums(&a[0]), f(1)).unwrap();
                let [lo, hi] = m.ci.unwrap();
                vec![m.mean, lo, hi]
            }
            "median" => vec![median(&nums(&a[0])).unwrap()],
            "quantile" => vec![quantile(&nums(&a[0]), f(1)).unwrap()],
            "welch" => {
                let (d, [lo, hi]) = welch(&nums(&a[0]), &nums(&a[1]), f(2)).unwrap();
                vec![d, lo, hi]
            }
            "cohens_kappa" => {
                let table: Vec<Vec<f64>> = a[1].as_array().unwrap().iter().map(nums).collect();
                let k = cohens_kappa(&table, f(0)).unwrap();
                vec![k.kappa, k.se, k.ci[0], k.ci[1]]
            }
            other => panic!("unknown reference kind {other}"),
        };
        assert_eq!(got.len(), expect.len(), "{kind} {a}");
        for (g, e) in got.iter().zip(&expect) {
            // Absolute 1e-6 for probabilities and bounds; relative 1e-6 for sample sizes.
            let tol = 1e-6 * e.abs().max(1.0);
            assert!((g - e).abs() <= tol, "{kind} {a}: got {got:?}, expected {expect:?}");
        }
        *checked.entry(kind.to_string()).or_default() += 1;
    }
    for kind in [
        "fisher_exact",
        "independence_test",
        "holm",
        "power_paired_exact",
        "n_paired_exact",
        "power_noninferiority",
        "dersimonian_laird",
        "cohens_kappa",
    ] {
        assert!(checked.contains_key(kind), "no reference case of {kind}");
    }
    println!("checked against scipy/statsmodels: {checked:?}");
}
