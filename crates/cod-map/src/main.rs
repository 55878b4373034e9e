fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_map::MapStage>(&cod_map::BINARY)
}
