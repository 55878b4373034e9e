fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_backtest::LadderRecommendStage>(
        &cod_backtest::LADDER_RECOMMEND_BINARY,
    )
}
