fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_ingest::IngestLmEvalResultsStage>(&cod_ingest::RESULTS_BINARY)
}
