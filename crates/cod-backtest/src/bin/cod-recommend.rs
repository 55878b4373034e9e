fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_backtest::RecommendStage>(&cod_backtest::RECOMMEND_BINARY)
}
