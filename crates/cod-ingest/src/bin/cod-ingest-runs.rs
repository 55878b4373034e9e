fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_ingest::IngestRunsStage>(&cod_ingest::RUNS_BINARY)
}
