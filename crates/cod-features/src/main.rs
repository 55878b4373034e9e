fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_features::FeaturesStage>(&cod_features::BINARY)
}
