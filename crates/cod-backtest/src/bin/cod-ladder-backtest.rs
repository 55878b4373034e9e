fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_backtest::LadderBacktestStage>(&cod_backtest::LADDER_BINARY)
}
