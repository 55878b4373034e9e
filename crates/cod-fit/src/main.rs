fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_fit::FitStage>(&cod_fit::BINARY)
}
