//! Backtests (METHODS §4): hold out the ladder's largest models, predict them from the smaller
//! ones with every method, and score each method's absolute error. This is the honest way to
//! choose a method for a new benchmark.
//!
//! Two stages write the same `backtest` artifact:
//!
//! - `backtest`, for the per-item pipelines: for k = 1..K the k-th largest ladder model becomes
//!   a target, and so does every larger one (`predict_larger`, else they are dropped), the
//!   original target is dropped from the eval table (anchors are kept), and features → cluster → fit → map run through their library
//!   functions with the pipeline's parameters.
//! - `ladder-backtest`, for training runs: for k = 1..K every run of the k-th largest model size
//!   becomes a target, larger sizes and the original targets are dropped, and the two-step ladder
//!   law and its baselines are fitted on the rest.
//!
//! Two more stages read a backtest: `recommend` and `ladder-recommend` choose each entry's
//! recommended prediction by it and calibrate every method's interval from its errors
//! ([`calibrate`]).
//!
//! **Invariant**: a holdout never reads a held-out model's results except to score it. They are
//! removed from the data the fits see before any method runs (larger models are removed
//! altogether); the one exception is the ladder's `ladder-step2`, which by definition evaluates
//! step 2 at the observed loss, and is marked as a diagnostic that never wins. Reads no files but
//! its input artifact.

pub mod calibrate;
mod holdout;
mod ladder;
mod per_item;
mod recommend;

pub use holdout::drop_models;
pub use ladder::{
    HoldOutBy, LADDER_BINARY, LadderBacktestParams, LadderBacktestStage, ladder_backtest,
};
pub use per_item::{BINARY, BacktestParams, BacktestStage, backtest};
pub use recommend::{
    LADDER_RECOMMEND_BINARY, LadderRecommendParams, LadderRecommendStage, RECOMMEND_BINARY,
    RecommendParams, RecommendStage, ladder_recommend, recommend,
};

/// Parameters as an empty table gives them: every field's serde default. Nested stage
/// parameters left out of a pipeline file take these.
fn defaults<T: serde::de::DeserializeOwned>() -> T {
    use serde::de::value::{Error, MapDeserializer};
    T::deserialize(MapDeserializer::<_, Error>::new(std::iter::empty::<(
        &str,
        &str,
    )>()))
    .expect("every parameter has a default")
}

/// `key=value` for every parameter in declaration order, for the artifact's record of what was
/// held fixed.
fn describe<T: serde::Serialize>(params: &T) -> String {
    match toml::Table::try_from(params) {
        Ok(table) => table
            .iter()
            .map(|(k, v)| match v {
                toml::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Err(err) => format!("(cannot describe: {err})"),
    }
}

/// `row` with its abs error |prediction − actual|. A prediction that is not a finite number
/// (a fit gone astray) counts as none, and the note says so.
fn scored(mut row: cod_artifact::BacktestRow) -> cod_artifact::BacktestRow {
    if let Some(p) = row.prediction.filter(|p| !p.is_finite()) {
        row.prediction = None;
        let why = format!("the prediction was {p}, not a number in [0, 1]");
        row.note = Some(match row.note {
            Some(note) => format!("{note}; {why}"),
            None => why,
        });
    }
    row.abs_error = row.prediction.zip(row.actual).map(|(p, a)| (p - a).abs());
    row
}

/// How many holdouts run: K, or fewer when the ladder is too short, with the reason.
fn feasible_holdouts(
    requested: usize,
    available: usize,
    minimum: usize,
    what: &str,
    key: &str,
) -> anyhow::Result<(usize, Option<String>)> {
    let feasible = available.saturating_sub(minimum);
    if feasible == 0 {
        anyhow::bail!(
            "the ladder has {available} {what}s; a backtest fits on at least `{key}` = {minimum} \
             and holds out one more, so it needs at least {}",
            minimum + 1
        );
    }
    if requested > feasible {
        let note = format!(
            "`holdout` = {requested} asked for more than the ladder allows: it has {available} \
             {what}s and every fit keeps at least `{key}` = {minimum}, so only k = 1..{feasible} ran"
        );
        return Ok((feasible, Some(note)));
    }
    Ok((requested, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each nested parameter table may be left out: its defaults must be what an empty TOML
    /// table gives, as the stage itself would read it.
    #[test]
    fn nested_defaults_are_the_stages_own() {
        fn same<T: serde::de::DeserializeOwned + serde::Serialize>() {
            let from_toml: T = toml::from_str("").unwrap();
            assert_eq!(
                serde_json::to_value(defaults::<T>()).unwrap(),
                serde_json::to_value(from_toml).unwrap()
            );
        }
        same::<cod_cluster::ClusterParams>();
        same::<cod_fit::FitParams>();
        same::<cod_map::MapParams>();
        same::<cod_ladder::LadderParams>();
        same::<BacktestParams>();
        same::<LadderBacktestParams>();
    }

    #[test]
    fn feasible_holdouts_stop_at_the_largest_feasible_k() {
        assert_eq!(feasible_holdouts(2, 8, 3, "model", "m").unwrap(), (2, None));
        let (k, note) = feasible_holdouts(9, 8, 3, "model", "min_ladder").unwrap();
        assert_eq!(k, 5);
        assert!(note.unwrap().contains("only k = 1..5 ran"));
        let err = feasible_holdouts(1, 3, 3, "model", "min_ladder").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the ladder has 3 models; a backtest fits on at least `min_ladder` = 3 and holds out \
             one more, so it needs at least 4"
        );
    }

    #[test]
    fn rows_are_scored_and_non_finite_predictions_are_none() {
        let row = |prediction: Option<f64>, actual: Option<f64>| {
            scored(cod_artifact::BacktestRow {
                holdout: 1,
                held_out: "m".to_owned(),
                benchmark: "b".to_owned(),
                method: "cod".to_owned(),
                prediction,
                actual,
                abs_error: None,
                interval: None,
                note: None,
            })
        };
        assert_eq!(row(Some(0.25), Some(0.5)).abs_error, Some(0.25));
        assert_eq!(row(Some(0.25), None).abs_error, None);
        let nan = row(Some(f64::NAN), Some(0.5));
        assert_eq!((nan.prediction, nan.abs_error), (None, None));
        assert_eq!(
            nan.note.as_deref(),
            Some("the prediction was NaN, not a number in [0, 1]")
        );
    }

    #[test]
    fn describe_lists_every_parameter() {
        assert_eq!(
            describe(&defaults::<cod_map::MapParams>()),
            "mapping=spline rmse_target=0.005 end_weight=100.0 reinsch_end_weight=1000000.0 \
             s_start=1.0 s_stop=0.00000001 s_steps=60 anchor_tolerance=0.05"
        );
    }
}

#[cfg(test)]
mod per_item_tests;

#[cfg(test)]
mod ladder_tests;

#[cfg(test)]
mod calibrate_tests;
