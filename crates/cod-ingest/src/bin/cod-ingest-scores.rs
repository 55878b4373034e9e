fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_ingest::IngestScoresStage>(&cod_ingest::SCORES_BINARY)
}
