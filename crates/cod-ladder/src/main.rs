fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_ladder::LadderStage>(&cod_ladder::BINARY)
}
