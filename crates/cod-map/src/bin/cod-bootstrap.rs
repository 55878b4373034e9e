fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_map::BootstrapStage>(&cod_map::BOOTSTRAP_BINARY)
}
