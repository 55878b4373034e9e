fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_backtest::BacktestStage>(&cod_backtest::BINARY)
}
