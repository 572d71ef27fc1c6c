//! Wiring for each command: which cluster, which listener, which parts run.

use crate::access::Access;
use crate::archive::jobs::JobArchive;
use crate::archive::local::LocalDir;
use crate::archive::s3::{S3Options, S3Store};
use crate::archive::store::ObjectStore;
use crate::archive::writer::{self, WriterOptions};
use crate::config::{ArchiveLocation, Command, DashboardConfig, DemoArgs, LogArgs, S3Args, ServeArgs, SimArgs};
use crate::logs::live::KubeLogs;
use crate::logs::plan::{LogService, ModelProbe, OperatorPods};
use crate::logs::shipped::ShippedLogs;
use crate::model::JobModel;
use crate::sources::cluster::{ClusterConnection, connect};
use crate::sources::spark_ui::SparkClient;
use crate::sources::spark_watch::{self, Sources};
use crate::state::AppState;
use crate::views;
use anyhow::Context;
use leptos::prelude::LeptosOptions;
use sparkboard_sim::history_server::HistoryServer;
use sparkboard_sim::log_shipper::{self, ObjectWriter, ShipOptions};
use sparkboard_sim::{Sim, kubeconfig, tls};
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
async fn sim_options(args: &crate::config::WorkloadArgs) -> anyhow::Result<sparkboard_sim::SimOptions> {
    let mut options = args.options()?;
    if let Some((launcher, _)) = &options.real_drivers
        && !sparkboard_sim::spark_driver::Launcher::available(&launcher.python).await
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
    let mut config = args.dashboard.validate(ArchiveLocation::Directory(std::env::temp_dir().join("sparkboard-demo-archive")))?;
    let logs = &args.dashboard.logs;
    let mut options = sim_options(&args.workload).await?;
    // The simulated cluster ships its pods' logs where the dashboard reads them.
    let mut _scratch = None;
    let log_location = config.log_archive.clone().unwrap_or_else(|| {
        let dir = std::env::temp_dir().join(format!("sparkboard-demo-logs-{}", std::process::id()));
        _scratch = Some(RemovedOnExit(dir.clone()));
        ArchiveLocation::Directory(dir)
    });
    config.log_archive = Some(log_location.clone());
    options.ship_logs = match ship_writer(log_location).await {
        Some(writer) => Some(ShipOptions { writer, format: logs.ship_format(), layout: logs.ship_layout()?, every: logs.ship_every()? }),
        None => None,
    };
    // With real drivers, a real History Server reads their event logs, so a demo job's Spark
    // UI link keeps working after its driver stops.
    let mut _history_server = None;
    if let (None, Some((launcher, _))) = (&config.history, &options.real_drivers) {
        match HistoryServer::start(&launcher.python, &launcher.event_log_dir).await {
            Ok(server) => {
                config.history = crate::sources::spark_ui::history_authority(&server.url).ok();
                println!("Spark History Server starting on {}", server.url);
                _history_server = Some(server);
            }
            Err(e) => eprintln!("sparkboard: no History Server for the demo: {e}"),
        }
    }
    let sim = Sim::start(&options);
    if let Some(addr) = args.sim_listen {
        let listener = bind(addr).await?;
        println!("simulated cluster listening on http://{}", listener.local_addr()?);
        let router = sim.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                eprintln!("sparkboard: the simulated cluster's listener stopped: {e}");
            }
        });
    }
    let client = connect(ClusterConnection::InProcess(sim.router())).await?;
    dashboard(client, config, Vec::new()).await
}

/// A scratch directory of this process, removed when the demo stops.
struct RemovedOnExit(std::path::PathBuf);

impl Drop for RemovedOnExit {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store for a location (none for `memory`).
async fn open_store(location: ArchiveLocation) -> Option<Arc<dyn ObjectStore>> {
    match location {
        ArchiveLocation::Memory => None,
        ArchiveLocation::Directory(dir) => Some(Arc::new(LocalDir::new(dir))),
        ArchiveLocation::S3 { bucket, prefix, endpoint, region, path_style } => {
            Some(Arc::new(S3Store::connect(S3Options { bucket, prefix, endpoint, region, path_style, credentials: None }).await))
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.dashboard.validate(ArchiveLocation::Memory)?;
    let namespaces = args.namespaces()?;
    let connection = args.kubeconfig.map_or(ClusterConnection::Infer, ClusterConnection::Kubeconfig);
    let client = connect(connection).await?;
    dashboard(client, config, namespaces).await
}

async fn sim(args: SimArgs) -> anyhow::Result<()> {
    let mut options = sim_options(&args.workload).await?;
    options.ship_logs = match &args.ship_logs {
        Some(value) => ship_options(&args.logs, &args.s3, value).await?,
        None => None,
    };
    let sim = Sim::start(&options);
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

/// The simulated shipper's settings for `sparkboard sim --ship-logs`.
async fn ship_options(logs: &LogArgs, s3: &S3Args, value: &str) -> anyhow::Result<Option<ShipOptions>> {
    let Some(writer) = ship_writer(s3.location("--ship-logs", value)?).await else { return Ok(None) };
    Ok(Some(ShipOptions { writer, format: logs.ship_format(), layout: logs.ship_layout()?, every: logs.ship_every()? }))
}

/// The simulated shipper's own writer for a location (none for `memory`): it shares no code
/// with the store the dashboard reads the same place through.
async fn ship_writer(location: ArchiveLocation) -> Option<Arc<dyn ObjectWriter>> {
    match location {
        ArchiveLocation::Memory => None,
        ArchiveLocation::Directory(dir) => Some(Arc::new(log_shipper::LocalDir::new(dir))),
        ArchiveLocation::S3 { bucket, prefix, endpoint, region, path_style } => {
            let target = log_shipper::S3Target { bucket, prefix, endpoint, region, path_style, credentials: None };
            Some(Arc::new(log_shipper::S3Writer::connect(target).await))
        }
    }
}

/// The dashboard on `client`, watching `namespaces` (all when empty), until shutdown.
async fn dashboard(client: kube::Client, config: DashboardConfig, namespaces: Vec<String>) -> anyhow::Result<()> {
    let model = Arc::new(JobModel::new(config.model));
    let archive = open_store(config.archive).await.map(|store| Arc::new(JobArchive::new(store)));
    let shipped = match config.log_archive {
        Some(location) => open_store(location)
            .await
            .map(|store| Arc::new(ShippedLogs { store, format: config.log_format, template: config.log_template })),
        None => None,
    };
    let logs = LogService {
        archive: shipped,
        live: Some(Arc::new(KubeLogs::new(client.clone()))),
        probe: Arc::new(ModelProbe(model.clone())),
        operator: config.operator.map(|(namespace, selector)| OperatorPods { client: client.clone(), namespace, selector }),
    };
    let metrics = config.metrics.service(client.clone());
    let sources = Sources { namespaces, controller_selectors: config.controller_selectors };
    let mut tasks = spark_watch::spawn(client, &sources, model.clone());
    let writer = archive.as_ref().map(|archive| {
        let options = WriterOptions { compact_every: config.compact_every, ..WriterOptions::default() };
        writer::spawn(model.clone(), archive.clone(), options)
    });
    let listener = bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let leptos = LeptosOptions::builder().output_name(OUTPUT_NAME).site_root("target/site").site_pkg_dir("pkg").site_addr(addr).build();
    let spark = SparkClient::new(config.spark_ui_kill, config.history);
    let router = views::router(AppState { model, archive, spark, logs, metrics, access: Access::open() }, leptos);
    println!("sparkboard listening on http://{addr}");
    axum::serve(views::listener(listener), router).with_graceful_shutdown(shutdown()).await?;
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
