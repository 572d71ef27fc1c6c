//! Wiring for each command: which cluster, which listener, which parts run.

use crate::access::Access;
use crate::archive::jobs::JobArchive;
use crate::archive::local::LocalDir;
use crate::archive::s3::{S3Options, S3Store};
use crate::archive::store::ObjectStore;
use crate::archive::writer::{self, WriterOptions};
use crate::config::{ArchiveLocation, Command, DemoArgs, LogArgs, S3Args, ServeArgs, SimArgs};
use crate::logs::live::KubeLogs;
use crate::logs::plan::{LogService, ModelProbe, OperatorPods};
use crate::logs::shipped::ShippedLogs;
use crate::model::{JobModel, ModelOptions};
use sparkboard_sim::history_server::HistoryServer;
use sparkboard_sim::log_shipper::{self, ObjectWriter, ShipOptions};
use sparkboard_sim::{Sim, kubeconfig, tls};
use crate::sources::cluster::{ClusterConnection, connect};
use crate::sources::spark_ui::SparkClient;
use crate::sources::spark_watch::{self, Sources};
use crate::state::AppState;
use crate::views;
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
    let archive = args.archive.location(ArchiveLocation::Directory(std::env::temp_dir().join("sparkboard-demo-archive")))?;
    let mut options = sim_options(&args.workload).await?;
    // The simulated cluster ships its pods' logs where the dashboard reads them.
    let mut _scratch = None;
    let log_location = match &args.logs.log_archive {
        Some(value) => args.archive.s3.location("--log-archive", value)?,
        None => {
            let dir = std::env::temp_dir().join(format!("sparkboard-demo-logs-{}", std::process::id()));
            _scratch = Some(RemovedOnExit(dir.clone()));
            ArchiveLocation::Directory(dir)
        }
    };
    let log_store = open_store(log_location.clone()).await;
    options.ship_logs = match ship_writer(log_location).await {
        Some(writer) => Some(ShipOptions {
            writer,
            format: args.logs.ship_format(),
            layout: args.logs.ship_layout()?,
            every: args.logs.ship_every()?,
        }),
        None => None,
    };
    // With real drivers, a real History Server reads their event logs, so a demo job's Spark
    // UI link keeps working after its driver stops.
    let mut history = args.ui.history_authority()?;
    let mut _history_server = None;
    if let (None, Some((launcher, _))) = (&history, &options.real_drivers) {
        match HistoryServer::start(&launcher.python, &launcher.event_log_dir).await {
            Ok(server) => {
                history = crate::sources::spark_ui::history_authority(&server.url).ok();
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
    let setup = Setup {
        sources: Sources { namespaces: Vec::new(), controller_selectors: args.labels.controller_selectors() },
        model: ModelOptions { keep_gone: args.archive.keep_finished, label_keys: args.labels.keys()? },
        archive,
        compact_every: args.archive.compact_every()?,
        ui: SparkClient::new(args.ui.spark_ui_kill, history),
        logs: log_setup(&args.logs, log_store)?,
        listen: args.listen.listen,
        metrics: args.metrics.config()?,
    };
    dashboard(client, setup).await
}

/// A scratch directory of this process, removed when the demo stops.
struct RemovedOnExit(std::path::PathBuf);

impl Drop for RemovedOnExit {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The log pipeline's settings: the archive the shipper writes, and where the operator runs.
fn log_setup(args: &LogArgs, store: Option<Arc<dyn ObjectStore>>) -> anyhow::Result<LogSetup> {
    let archive = match store {
        Some(store) => Some(Arc::new(ShippedLogs { store, format: args.format(), template: args.key_template()? })),
        None => None,
    };
    let operator = (!args.operator_selector.trim().is_empty()).then(|| (args.operator_namespace.clone(), args.operator_selector.clone()));
    Ok(LogSetup { archive, operator })
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
    let log_store = match &args.logs.log_archive {
        Some(value) => open_store(args.archive.s3.location("--log-archive", value)?).await,
        None => None,
    };
    let setup = Setup {
        sources: Sources { namespaces: args.namespaces()?, controller_selectors: args.labels.controller_selectors() },
        model: ModelOptions { keep_gone: args.archive.keep_finished, label_keys: args.labels.keys()? },
        archive: args.archive.location(ArchiveLocation::Memory)?,
        compact_every: args.archive.compact_every()?,
        ui: SparkClient::new(args.ui.spark_ui_kill, args.ui.history_authority()?),
        logs: log_setup(&args.logs, log_store)?,
        listen: args.listen.listen,
        metrics: args.metrics.config()?,
    };
    let connection = args.kubeconfig.map_or(ClusterConnection::Infer, ClusterConnection::Kubeconfig);
    let client = connect(connection).await?;
    dashboard(client, setup).await
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

/// Everything the dashboard runs with, from the command line.
struct Setup {
    sources: Sources,
    model: ModelOptions,
    archive: ArchiveLocation,
    compact_every: std::time::Duration,
    ui: SparkClient,
    logs: LogSetup,
    listen: SocketAddr,
    metrics: crate::metrics::MetricsConfig,
}

struct LogSetup {
    archive: Option<Arc<ShippedLogs>>,
    /// spark-operator's namespace and pod selector.
    operator: Option<(String, String)>,
}

async fn dashboard(client: kube::Client, setup: Setup) -> anyhow::Result<()> {
    let model = Arc::new(JobModel::new(setup.model));
    let archive = open_store(setup.archive).await.map(|store| Arc::new(JobArchive::new(store)));
    let logs = LogService {
        archive: setup.logs.archive,
        live: Some(Arc::new(KubeLogs::new(client.clone()))),
        probe: Arc::new(ModelProbe(model.clone())),
        operator: setup.logs.operator.map(|(namespace, selector)| OperatorPods { client: client.clone(), namespace, selector }),
    };
    let metrics = setup.metrics.service(client.clone());
    let mut tasks = spark_watch::spawn(client, &setup.sources, model.clone());
    let writer = archive.as_ref().map(|archive| {
        let options = WriterOptions { compact_every: setup.compact_every, ..WriterOptions::default() };
        writer::spawn(model.clone(), archive.clone(), options)
    });
    let listener = bind(setup.listen).await?;
    let addr = listener.local_addr()?;
    let leptos = LeptosOptions::builder().output_name(OUTPUT_NAME).site_root("target/site").site_pkg_dir("pkg").site_addr(addr).build();
    let router = views::router(AppState { model, archive, spark: setup.ui, logs, metrics, access: Access::open() }, leptos);
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
