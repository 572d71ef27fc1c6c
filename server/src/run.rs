//! Wiring for each command: which cluster, which listener, which parts run.

use crate::archive::jobs::JobArchive;
use crate::archive::local::LocalDir;
use crate::archive::s3::{S3Options, S3Store};
use crate::archive::store::ObjectStore;
use crate::archive::writer::{self, WriterOptions};
use crate::config::{ArchiveArgs, ArchiveLocation, Command, DemoArgs, ServeArgs, SimArgs};
use crate::model::{JobModel, ModelOptions};
use crate::sim::{Sim, kubeconfig, tls};
use crate::sources::cluster::{ClusterConnection, connect};
use crate::sources::spark_watch::{self, Sources};
use crate::views::{self, AppState};
use anyhow::Context;
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// How long shutdown waits for the archive writer: well inside Kubernetes' default 30 s grace.
const SHUTDOWN_FLUSH: std::time::Duration = std::time::Duration::from_secs(15);

/// The name cargo-leptos gives the browser bundle (`output-name` in Cargo.toml).
const OUTPUT_NAME: &str = "sparkboard";

/// Runs one command until Ctrl-C or SIGTERM.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Demo(args) => demo(args).await,
        Command::Serve(args) => serve(args).await,
        Command::Sim(args) => sim(args).await,
    }
}

/// The sim's options, without real Spark drivers when this machine cannot run them.
async fn sim_options(args: &crate::config::WorkloadArgs) -> anyhow::Result<crate::sim::SimOptions> {
    let mut options = args.options()?;
    if let Some((launcher, _)) = &options.real_drivers
        && !crate::sim::spark_driver::Launcher::available(&launcher.python).await
    {
        eprintln!(
            "sparkboard: real Spark drivers asked for, but {} cannot import pyspark or java is not on PATH; running without them",
            launcher.python.display()
        );
        options.real_drivers = None;
    }
    Ok(options)
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let archive = args.archive.location(ArchiveLocation::Directory(std::env::temp_dir().join("sparkboard-demo-archive")))?;
    let sim = Sim::start(&sim_options(&args.workload).await?);
    let client = connect(ClusterConnection::InProcess(sim.router())).await?;
    let model = ModelOptions { keep_gone: args.archive.keep_finished, label_keys: args.labels.keys()? };
    let sources = Sources { namespaces: Vec::new(), controller_selectors: args.labels.controller_selectors() };
    dashboard(client, sources, model, &args.archive, archive, args.listen.listen).await
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let namespaces = args.namespaces()?;
    let archive = args.archive.location(ArchiveLocation::Memory)?;
    let connection = args.kubeconfig.map_or(ClusterConnection::Infer, ClusterConnection::Kubeconfig);
    let client = connect(connection).await?;
    let model = ModelOptions { keep_gone: args.archive.keep_finished, label_keys: args.labels.keys()? };
    let sources = Sources { namespaces, controller_selectors: args.labels.controller_selectors() };
    dashboard(client, sources, model, &args.archive, archive, args.listen.listen).await
}

async fn sim(args: SimArgs) -> anyhow::Result<()> {
    let sim = Sim::start(&sim_options(&args.workload).await?);
    let listener = bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let identity = args.tls.then(tls::Identity::generate).transpose()?;
    let url = format!("{}://{addr}", if identity.is_some() { "https" } else { "http" });
    if let Some(path) = &args.kubeconfig_out {
        let credentials = identity.as_ref().map(|i| kubeconfig::Credentials { ca_pem: &i.ca_pem, token: &i.token });
        std::fs::write(path, kubeconfig::render(&url, credentials)).with_context(|| format!("writing kubeconfig {}", path.display()))?;
    }
    println!("simulated cluster listening on {url}");
    match identity {
        Some(identity) => {
            let token: Arc<str> = identity.token.into();
            let router =
                sim.router().layer(axum::middleware::from_fn(move |request, next| tls::require_token(token.clone(), request, next)));
            tokio::select! {
                _ = tls::serve(listener, router, identity.server) => {}
                _ = shutdown() => {}
            }
        }
        None => axum::serve(listener, sim.router()).with_graceful_shutdown(shutdown()).await?,
    }
    Ok(())
}

/// The job archive's store, when there is one.
async fn open_archive(location: ArchiveLocation) -> anyhow::Result<Option<Arc<JobArchive>>> {
    let store: Arc<dyn ObjectStore> = match location {
        ArchiveLocation::Memory => return Ok(None),
        ArchiveLocation::Directory(dir) => Arc::new(LocalDir::new(dir)),
        ArchiveLocation::S3 { bucket, prefix, endpoint, region, path_style } => {
            Arc::new(S3Store::connect(S3Options { bucket, prefix, endpoint, region, path_style, credentials: None }).await)
        }
    };
    Ok(Some(Arc::new(JobArchive::new(store))))
}

async fn dashboard(
    client: kube::Client,
    sources: Sources,
    model: ModelOptions,
    archive_args: &ArchiveArgs,
    archive: ArchiveLocation,
    listen: SocketAddr,
) -> anyhow::Result<()> {
    let model = Arc::new(JobModel::new(model));
    let archive = open_archive(archive).await?;
    let mut tasks = spark_watch::spawn(client, &sources, model.clone());
    let writer = match &archive {
        Some(archive) => {
            let options = WriterOptions { compact_every: archive_args.compact_every()?, ..WriterOptions::default() };
            Some(writer::spawn(model.clone(), archive.clone(), options))
        }
        None => None,
    };
    let listener = bind(listen).await?;
    let addr = listener.local_addr()?;
    let leptos = LeptosOptions::builder().output_name(OUTPUT_NAME).site_root("target/site").site_pkg_dir("pkg").site_addr(addr).build();
    let router = views::router(AppState { model, archive, ui_client: crate::ui_proxy::UiClient::new(false) }, leptos);
    println!("sparkboard listening on http://{addr}");
    axum::serve(listener, router).with_graceful_shutdown(shutdown()).await?;
    // Finished jobs still settling or waiting for the archive: write them before going.
    if let Some(writer) = writer {
        writer.flush(SHUTDOWN_FLUSH).await;
        tasks.extend(writer.tasks);
    }
    tasks.iter().for_each(|t| t.abort());
    Ok(())
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))
}

/// Resolves on Ctrl-C or SIGTERM (what Kubernetes sends a pod).
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
