fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_report::LadderReportStage>(&cod_report::LADDER_BINARY)
}
