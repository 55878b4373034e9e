fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_report::ReportStage>(&cod_report::BINARY)
}
