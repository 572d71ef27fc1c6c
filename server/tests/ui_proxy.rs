//! The Spark UI proxy over real HTTP: `sparkboard serve` on `sparkboard sim`, with a driver
//! pod whose `spark-ui` port is a stub upstream on loopback that records what reaches it.
//! (The real Spark driver behind the proxy is in `real_spark.rs`.)

mod common;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use common::{Process, SimCluster, eventually, get_json, start_sim, until_ok};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the stub upstream saw: path with query, and headers.
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A stand-in for a driver's UI: redirects as old Jetty does (absolute, from Host), sets a
/// cookie, and records every request.
async fn stub_upstream() -> (u16, Seen, tokio::task::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = Router::new().fallback(move |request: Request| {
        let record = record.clone();
        async move {
            let target = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
            let headers: Vec<(String, String)> =
                request.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string())).collect();
            let host = request.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
            record.lock().unwrap().push((target.clone(), headers.clone()));
            let response: Response = match request.uri().path() {
                "/" => (http::StatusCode::FOUND, [("location", format!("http://{host}/jobs/"))]).into_response(),
                "/jobs" => {
                    (http::StatusCode::FOUND, [("location", format!("http://{host}/jobs/?{}", request.uri().query().unwrap_or("")))])
                        .into_response()
                }
                _ => ([("set-cookie", "JSESSIONID=planted"), ("content-type", "application/json")], json!({"target": target}).to_string())
                    .into_response(),
            };
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, seen, task)
}

/// Sends `GET target` with `Host: host` on a fresh connection, as written; the status and
/// the head of the response.
async fn raw_get(authority: &str, target: &str, host: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    stream.write_all(format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text.chars().take(300).collect())
}

/// Creates `pods` in namespace `ml` of the sim, then starts `sparkboard serve` on it and waits
/// until it knows job `ml/{job}`.
async fn dashboard_knowing(sim: &SimCluster, pods: &[Value], job: &str) -> Process {
    for pod in pods {
        let created = reqwest::Client::new().post(format!("{}/api/v1/namespaces/ml/pods", sim.process.url)).json(pod).send().await.unwrap();
        assert_eq!(created.status(), 201);
    }
    let kubeconfig = sim.kubeconfig.to_str().unwrap();
    let dashboard = Process::start(&["serve", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0"]);
    until_ok("the dashboard to know the job", &format!("{}/api/v1/jobs/ml/{job}", dashboard.url), Duration::from_secs(30)).await;
    dashboard
}

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_reaches_only_the_job_driver_with_clean_headers_and_prefixed_redirects() {
    let sim = start_sim("ui-proxy", &["--speed", "2"]);
    let (port, seen, upstream) = stub_upstream().await;
    // A spark-submit driver whose UI is the stub.
    let driver = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "stub-ui-driver", "namespace": "ml", "labels": {"spark-role": "driver", "spark-app-selector": "spark-stub"}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark:4.1.1", "ports": [{"name": "spark-ui", "containerPort": port}]}]},
        "status": {"phase": "Running", "podIP": "127.0.0.1"}
    });
    // And one still waiting for a node.
    let pending = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "waiting-ui-driver", "namespace": "ml", "labels": {"spark-role": "driver", "spark-app-selector": "spark-waiting"}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark:4.1.1"}]},
        "status": {"phase": "Pending"}
    });
    let dashboard = dashboard_knowing(&sim, &[driver, pending], "stub-ui").await;
    let base = dashboard.url.clone();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let prefix = "/jobs/ml/stub-ui/ui";

    // The prefix without its slash, then the UI's root redirect, moved under the prefix.
    let r = client.get(format!("{base}{prefix}")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (307, "/jobs/ml/stub-ui/ui/"));
    let r = client.get(format!("{base}{prefix}/")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (302, "/jobs/ml/stub-ui/ui/jobs/"));
    let r = client.get(format!("{base}{prefix}/jobs?id=0")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/jobs/ml/stub-ui/ui/jobs/?id=0", "query kept, prefixed once");

    // A page: the query byte for byte, the dashboard's credentials and a forged context stay behind.
    let r = client
        .get(format!("{base}{prefix}/stages/stage/taskTable?draw=1&order%5B0%5D%5Bcolumn%5D=0"))
        .header("cookie", "sparkboard_session=secret")
        .header("authorization", "Bearer dashboard-token")
        .header("x-forwarded-context", "/evil');alert(1);('")
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("set-cookie").is_none(), "the driver's cookie reached the browser");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["target"], "/stages/stage/taskTable?draw=1&order%5B0%5D%5Bcolumn%5D=0");
    let (_, headers) = seen.lock().unwrap().last().cloned().unwrap();
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(header("x-forwarded-context").as_deref(), Some(prefix));
    assert_eq!(header("host"), Some(format!("127.0.0.1:{port}")));
    for leaked in ["cookie", "authorization", "x-forwarded-for"] {
        assert_eq!(header(leaked), None, "{leaked} reached the driver");
    }

    // Escapes: whatever the request target or Host says, only the job's driver is reached, and
    // a path that names no known job reaches nothing. (Raw requests: a client library would
    // normalise these.)
    let before = seen.lock().unwrap().len();
    let authority = base.trim_start_matches("http://").to_string();
    for (target, host) in [
        ("http://evil.example/jobs/ml/stub-ui/ui/environment/", "evil.example"),
        ("/jobs/ml/stub-ui/ui/environment/", "169.254.169.254"),
        ("/jobs/ml/stub-ui/ui/../../../../latest/meta-data/", authority.as_str()),
    ] {
        let (status, _) = raw_get(&authority, target, host).await;
        assert_eq!(status, 200, "{target} (Host: {host})");
        let (path, headers) = seen.lock().unwrap().last().cloned().unwrap();
        let upstream_host = headers.iter().find(|(k, _)| k == "host").map(|(_, v)| v.clone());
        assert_eq!(upstream_host, Some(format!("127.0.0.1:{port}")), "{target}: only the driver");
        assert!(path.starts_with('/') && !path.contains("evil"), "{target} reached the driver as {path}");
    }
    assert_eq!(seen.lock().unwrap().len(), before + 3);
    for target in
        ["/jobs/ml%2Fstub-ui/x/ui/jobs/", "/jobs/ml/stub-ui%2Fui/ui/jobs/", "/jobs/ml/../ml/stub-ui/ui/jobs/", "/jobs/proxy/stub-ui/ui/"]
    {
        let (status, _) = raw_get(&authority, target, &authority).await;
        assert!(status == 404 || status == 400, "{target}: {status}");
    }
    assert_eq!(seen.lock().unwrap().len(), before + 3, "a path naming no known job reached the driver");

    // Kill links and other methods stop at the proxy.
    let before = seen.lock().unwrap().len();
    let r = client.get(format!("{base}{prefix}/jobs/job/kill/?id=0")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = client.put(format!("{base}{prefix}/jobs/")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["allow"].to_str().unwrap()), (405, "GET, HEAD"));
    assert_eq!(seen.lock().unwrap().len(), before, "the driver was reached");

    // Unknown jobs, and jobs with no running driver, are the dashboard's own pages.
    assert_eq!(client.get(format!("{base}/jobs/ml/nope/ui/")).send().await.unwrap().status(), 404);
    let jobs = get_json(&format!("{base}/api/v1/jobs?state=COMPLETED&limit=1")).await;
    if let Some(done) = jobs["jobs"].as_array().unwrap().first() {
        let url = format!("{base}/jobs/{}/{}/ui/", done["namespace"].as_str().unwrap(), done["name"].as_str().unwrap());
        let r = client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 503);
        assert!(r.text().await.unwrap().contains("has no running driver"));
    }
    // A job still on its way to a driver: a page that reloads itself until the UI answers.
    let r = client.get(format!("{base}/jobs/ml/waiting-ui/ui/")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers().get("refresh").map(|v| v.to_str().unwrap().to_string())), (503, Some("3".into())));
    assert!(r.text().await.unwrap().contains("driver is not running yet"));

    // A dashboard that lets kills through: only as a POST from its own pages, with the form.
    let killing =
        Process::start(&["serve", "--kubeconfig", sim.kubeconfig.to_str().unwrap(), "--listen", "127.0.0.1:0", "--spark-ui-kill"]);
    let kill_url = format!("{}{prefix}/jobs/job/kill/", killing.url);
    eventually("the killing dashboard to know the job", Duration::from_secs(30), || async {
        let r = client.get(format!("{}{prefix}/jobs/", killing.url)).send().await.map_err(|e| e.to_string())?;
        if r.status() == 200 { Ok(()) } else { Err(r.status().to_string()) }
    })
    .await;
    let before = seen.lock().unwrap().len();
    let r = client.get(format!("{kill_url}?id=0")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["allow"].to_str().unwrap()), (405, "POST"), "a link must not kill");
    let form =
        |request: reqwest::RequestBuilder| request.header("content-type", "application/x-www-form-urlencoded").body("id=0&csrfToken=t");
    let r =
        form(client.post(&kill_url)).header("sec-fetch-site", "cross-site").header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("another site"));
    assert_eq!(form(client.post(&kill_url)).send().await.unwrap().status(), 403, "neither Sec-Fetch-Site nor Origin");
    let host = killing.url.trim_start_matches("http://").to_string();
    let r = form(client.post(&kill_url)).header("origin", format!("http://{host}")).send().await.unwrap();
    assert_eq!(r.status(), 200, "same Origin as Host");
    // Too large a form: a 413, or (the proxy stops reading and closes while the client still
    // sends) a connection the client sees cut. Either way it is not passed on (counted below).
    match client.post(&kill_url).header("sec-fetch-site", "same-origin").body(vec![b'x'; 64 * 1024]).send().await {
        Ok(huge) => assert_eq!(huge.status(), 413),
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    assert_eq!(seen.lock().unwrap().len(), before + 1, "only the same-origin POST reached the driver");
    let r = form(client.post(&kill_url)).header("sec-fetch-site", "same-origin").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (target, headers) = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(target, "/jobs/job/kill/");
    assert!(headers.iter().any(|(k, v)| k == "content-type" && v == "application/x-www-form-urlencoded"), "{headers:?}");
    assert!(headers.iter().any(|(k, v)| k == "content-length" && v == "16"), "{headers:?}");
    drop(killing);

    // The driver dies: a clear error, fast, with the way back to the job.
    upstream.abort();
    let _ = upstream.await;
    let started = std::time::Instant::now();
    let r = client.get(format!("{base}{prefix}/jobs/")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(started.elapsed() < Duration::from_secs(5), "a dead driver took {:?}", started.elapsed());
    let page = r.text().await.unwrap();
    assert!(page.contains("cannot be reached") && page.contains("href=\"/jobs/ml/stub-ui\""), "{page}");
    assert!(page.contains("href=\"/jobs/ml/stub-ui/logs\""), "a way to the logs: {page}");
}

/// The size of the body the big-download test sends through the proxy.
const BIG_BODY: usize = 256 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

/// A driver UI that serves one large download (as `/api/v1/applications/{id}/logs`, the
/// event-log zip, does): its first chunk, then nothing until `go` fires, then the rest as fast
/// as the connection takes it.
async fn big_download_upstream(go: tokio::sync::oneshot::Receiver<()>) -> u16 {
    let go = Arc::new(tokio::sync::Mutex::new(Some(go)));
    let app = Router::new().fallback(move || {
        let go = go.clone();
        async move {
            let chunks = futures::stream::unfold((0usize, go), |(sent, go)| async move {
                if sent == CHUNK {
                    // Held back until the client has the first chunk: a proxy that buffered the
                    // body would never let it through.
                    if let Some(go) = go.lock().await.take() {
                        let _ = go.await;
                    }
                }
                (sent < BIG_BODY).then(|| (Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'z'; CHUNK])), (sent + CHUNK, go)))
            });
            ([("content-type", "application/octet-stream")], axum::body::Body::from_stream(chunks))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_download_streams_through_the_proxy_in_bounded_memory() {
    let sim = start_sim("ui-proxy-big", &["--speed", "2"]);
    let (go, gate) = tokio::sync::oneshot::channel();
    let port = big_download_upstream(gate).await;
    let driver = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "big-ui-driver", "namespace": "ml", "labels": {"spark-role": "driver", "spark-app-selector": "spark-big"}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark:4.1.1", "ports": [{"name": "spark-ui", "containerPort": port}]}]},
        "status": {"phase": "Running", "podIP": "127.0.0.1"}
    });
    let dashboard = dashboard_knowing(&sim, &[driver], "big-ui").await;
    let base = dashboard.url.clone();
    let (_, peak_before) = dashboard.memory();

    let mut response = reqwest::get(format!("{base}/jobs/ml/big-ui/ui/api/v1/applications/spark-big/logs")).await.unwrap();
    assert_eq!(response.status(), 200);
    // The first chunk arrives while the upstream still holds the rest back.
    let mut received = 0usize;
    while received < CHUNK {
        let chunk = tokio::time::timeout(Duration::from_secs(20), response.chunk())
            .await
            .expect("the first megabyte arrives before the upstream sends the rest: the proxy streams")
            .unwrap()
            .expect("more body");
        received += chunk.len();
    }
    go.send(()).unwrap();
    // Then the client reads slowly at first, so a proxy that read ahead without bound would hold
    // most of the body by the time the reading speeds up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while let Some(chunk) = response.chunk().await.expect("the body to the end") {
        received += chunk.len();
    }
    assert_eq!(received, BIG_BODY, "every byte through");
    let (_, peak_after) = dashboard.memory();
    let grown = peak_after.saturating_sub(peak_before);
    eprintln!("peak memory {} MiB before the download, {} MiB after", peak_before >> 20, peak_after >> 20);
    assert!(grown < 64 * 1024 * 1024, "the dashboard's peak memory grew by {} MiB for a 256 MiB download", grown / (1024 * 1024));
}
