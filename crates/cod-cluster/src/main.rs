fn main() -> std::process::ExitCode {
    cod_pipeline::stage_main::<cod_cluster::ClusterStage>(&cod_cluster::BINARY)
}
