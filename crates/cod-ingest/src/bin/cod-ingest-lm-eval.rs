fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_ingest::IngestLmEvalStage>(&cod_ingest::LM_EVAL_BINARY)
}
