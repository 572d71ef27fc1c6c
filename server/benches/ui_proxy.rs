//! `make bench`: the Spark UI proxy against a real Spark driver (pyspark), three ways in one
//! run: direct to the driver, through sparkboard's proxy, and through nginx configured as the
//! same prefix proxy (`X-Forwarded-Context`, `proxy_redirect`, upstream keep-alive).
//!
//! Per path: sequential latency p50/p99, then throughput with 16 concurrent clients. Needs
//! `PYTHON` (a Python with pyspark; Java on PATH) and nginx; skips what it cannot run.
//! Figures only: these machines are noisy, so nothing here asserts a time.

mod support;

use futures::StreamExt;
use serde_json::json;
use sparkboard::model::JobModel;
use sparkboard::model::labels::LabelKeys;
use sparkboard::model::pod::PodSummary;
use sparkboard_sim::spark_driver::Launcher;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PREFIX: &str = "/jobs/bench/app/ui";
const SEQUENTIAL: usize = 300;
const CONCURRENCY: usize = 16;
const LOAD_SECONDS: u64 = 3;

/// Sequential latency (p50, p99, seconds) and concurrent throughput (requests per second).
async fn measure(client: &reqwest::Client, url: &str) -> (f64, f64, f64) {
    let mut samples = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let start = Instant::now();
        let body = client.get(url).send().await.expect("request").bytes().await.expect("body");
        std::hint::black_box(body);
        samples.push(start.elapsed().as_secs_f64());
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let done: usize = futures::stream::iter(0..CONCURRENCY)
        .map(|_| async {
            let mut n = 0;
            while Instant::now() < deadline {
                if let Ok(r) = client.get(url).send().await
                    && r.bytes().await.is_ok()
                {
                    n += 1;
                }
            }
            n
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<usize>>()
        .await
        .into_iter()
        .sum();
    (support::percentile(&samples, 0.5), support::percentile(&samples, 0.99), done as f64 / LOAD_SECONDS as f64)
}

/// nginx as the peer: the same prefix, the same context header, redirects moved the same way.
fn start_nginx(ui_port: u16) -> Option<(std::process::Child, u16, PathBuf)> {
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().find(|p| std::path::Path::new(p).exists())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let dir = std::env::temp_dir().join(format!("sparkboard-bench-nginx-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tmp")).ok()?;
    let d = dir.display();
    let conf = format!(
        "daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp; uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
  upstream spark {{ server 127.0.0.1:{ui_port}; keepalive 16; keepalive_timeout 5s; }}
  server {{
    listen 127.0.0.1:{port};
    location {PREFIX}/ {{
      proxy_pass http://spark/;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host 127.0.0.1:{ui_port};
      proxy_set_header X-Forwarded-Context {PREFIX};
      proxy_set_header Cookie \"\";
      proxy_set_header Authorization \"\";
      proxy_redirect http://127.0.0.1:{ui_port}/ {PREFIX}/;
      proxy_hide_header Set-Cookie;
      proxy_buffering off;
    }}
  }}
}}
"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).ok()?;
    let child = std::process::Command::new(nginx)
        .args(["-e", &format!("{d}/error.log"), "-p"])
        .arg(&dir)
        .arg("-c")
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    Some((child, port, dir))
}

/// sparkboard in-process: a model that knows one spark-submit job whose driver is the real one.
async fn start_sparkboard(ui_port: u16) -> u16 {
    let model = Arc::new(JobModel::default());
    let pod = json!({
        "metadata": {"name": "app-driver", "namespace": "bench", "labels": {"spark-role": "driver", "spark-app-selector": "spark-bench"}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "ports": [{"name": "spark-ui", "containerPort": ui_port}]}]},
        "status": {"phase": "Running", "podIP": "127.0.0.1"}
    });
    let summary = PodSummary::from_object(&serde_json::from_value(pod).expect("pod"), &LabelKeys::default()).expect("a driver");
    model.apply_pod(summary);
    support::serve_dashboard(model).await.port()
}

#[tokio::main]
async fn main() {
    let python = PathBuf::from(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()));
    if !Launcher::available(&python).await {
        println!("Spark UI proxy: skipped (set PYTHON to a Python with pyspark, and put java on PATH; `make bench` does)");
        return;
    }
    let events = std::env::temp_dir().join(format!("sparkboard-bench-events-{}", std::process::id()));
    let launcher = Launcher { python, event_log_dir: events.clone() };
    let driver = launcher.start("sparkboard-bench").await.expect("a Spark driver");
    let ui_port = driver.ui_port;
    let sparkboard = start_sparkboard(ui_port).await;
    let nginx = start_nginx(ui_port);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    // Let nginx come up.
    tokio::time::sleep(Duration::from_millis(500)).await;

    println!("Spark UI proxy, a real Spark driver; sequential {SEQUENTIAL} requests, then {CONCURRENCY} clients for {LOAD_SECONDS} s:");
    for path in ["/api/v1/applications", "/jobs/", "/static/webui.js"] {
        // The JVM compiles hot paths as it serves: warm it up so the first measured way is not
        // the slow one.
        for _ in 0..3 {
            measure(&client, &format!("http://127.0.0.1:{ui_port}{path}")).await;
        }
        let direct = measure(&client, &format!("http://127.0.0.1:{ui_port}{path}")).await;
        let ours = measure(&client, &format!("http://127.0.0.1:{sparkboard}{PREFIX}{path}")).await;
        let peer = match &nginx {
            Some((_, port, _)) => Some(measure(&client, &format!("http://127.0.0.1:{port}{PREFIX}{path}")).await),
            None => None,
        };
        let line = |name: &str, (p50, p99, rps): (f64, f64, f64)| {
            format!("    {name:<10} p50 {:>6.2} ms  p99 {:>6.2} ms  {:>7.0} req/s", p50 * 1e3, p99 * 1e3, rps)
        };
        println!("  {path}");
        println!("{}", line("direct", direct));
        println!("{}", line("sparkboard", ours));
        match peer {
            Some(peer) => {
                println!("{}", line("nginx", peer));
                println!(
                    "    ratios: sparkboard/direct p50 {:.2}, sparkboard/nginx p50 {:.2}, throughput sparkboard/nginx {:.2}",
                    ours.0 / direct.0,
                    ours.0 / peer.0,
                    ours.2 / peer.2
                );
            }
            None => println!("    nginx: not installed (apt-get install nginx); ratio sparkboard/direct p50 {:.2}", ours.0 / direct.0),
        }
    }
    if let Some((mut child, _, dir)) = nginx {
        // SIGTERM: nginx's master stops its workers (a SIGKILL would orphan them).
        let _ = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(dir);
    }
    driver.stop().await;
    let _ = std::fs::remove_dir_all(events);
}
