fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_ingest::IngestStage>(&cod_ingest::BINARY)
}
