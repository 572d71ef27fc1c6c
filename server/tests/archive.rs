//! The job archive, end to end: `sparkboard serve` on `sparkboard sim`, with the archive in a
//! local directory or in S3 (a real SeaweedFS on loopback). Finished jobs outlive Kubernetes
//! and a restart; an unreachable archive degrades to live-only with a banner and loses nothing.

mod common;

use common::{Process, Seaweed, SimCluster, eventually, get_json, scratch_dir, start_sim, wait_ready};
use serde_json::Value;
use std::time::Duration;

/// The jobs a dashboard lists that Kubernetes no longer has.
async fn deleted_jobs(dashboard: &str) -> Vec<Value> {
    let list = get_json(&format!("{dashboard}/api/v1/jobs?limit=1000")).await;
    list["jobs"].as_array().unwrap().iter().filter(|j| j["deleted_from_cluster"] == true).cloned().collect()
}

fn id(job: &Value) -> String {
    format!("{}/{}", job["namespace"].as_str().unwrap(), job["name"].as_str().unwrap())
}

fn serve(sim: &SimCluster, archive: &str, env: &[(&'static str, String)]) -> Process {
    let kubeconfig = sim.kubeconfig.to_str().unwrap();
    Process::start_with_env(&["serve", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--archive", archive], env)
}

/// A job Kubernetes deleted is listed, archived, and after a restart of the dashboard listed
/// again, with its pods and events read back from the archive.
async fn jobs_outlive_kubernetes_and_a_restart(test: &str, archive: &str, env: &[(&'static str, String)]) {
    let sim = start_sim(test, &["--speed", "6"]);
    let first = serve(&sim, archive, env);
    wait_ready(&first.url).await;
    let gone = eventually("a job deleted from Kubernetes, still listed", Duration::from_secs(60), || async {
        deleted_jobs(&first.url).await.into_iter().find(|j| j["executors"]["requested"].as_u64() > Some(0)).ok_or("none yet".to_string())
    })
    .await;
    let gone_id = id(&gone);
    let before = get_json(&format!("{}/api/v1/jobs/{gone_id}", first.url)).await;
    assert!(!before["pods"].as_array().unwrap().is_empty(), "{before}");
    // A graceful stop writes what is still settling.
    first.terminate();

    let second = serve(&sim, archive, env);
    wait_ready(&second.url).await;
    let listed = eventually("the archived job listed after a restart", Duration::from_secs(30), || async {
        deleted_jobs(&second.url).await.into_iter().find(|j| id(j) == gone_id).ok_or("not yet".to_string())
    })
    .await;
    assert_eq!(listed["state"], gone["state"]);
    let after = get_json(&format!("{}/api/v1/jobs/{gone_id}", second.url)).await;
    assert_eq!(after["warnings"], serde_json::json!([]), "{after}");
    assert_eq!(after["pods"], before["pods"], "pods read back from the archive");
    assert_eq!(after["spark_conf"], before["spark_conf"]);
    assert_eq!(after["deleted_from_cluster"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_directory_archive_keeps_finished_jobs_across_restarts() {
    let dir = scratch_dir("archive-local");
    jobs_outlive_kubernetes_and_a_restart("archive-local", dir.join("archive").to_str().unwrap(), &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unusable_archive_shows_a_banner_and_the_live_jobs() {
    let sim = start_sim("archive-broken", &["--speed", "6"]);
    // A path under a regular file: every read and write fails.
    let file = scratch_dir("archive-broken-file").join("not-a-directory");
    std::fs::write(&file, b"").unwrap();
    let dashboard = serve(&sim, file.join("archive").to_str().unwrap(), &[]);
    wait_ready(&dashboard.url).await;
    let list = eventually("a warning about the archive", Duration::from_secs(30), || async {
        let list = get_json(&format!("{}/api/v1/jobs", dashboard.url)).await;
        if list["warnings"].as_array().unwrap().is_empty() { Err(list.to_string()) } else { Ok(list) }
    })
    .await;
    let warning = list["warnings"][0].as_str().unwrap();
    assert!(warning.contains("cannot be read") && warning.contains("not-a-directory"), "{warning}");
    assert!(list["total"].as_u64().unwrap() >= 15, "live jobs are listed all the same: {list}");
}

/// A bucket on `weed`, created with the test's own keys.
async fn bucket(weed: &Seaweed, name: &str) -> sparkboard::archive::s3::S3Store {
    let store = weed.store(name, "").await;
    store.create_bucket().await.expect("create bucket");
    store
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_archive_keeps_finished_jobs_across_restarts() {
    let weed = Seaweed::start("archive-s3").await;
    bucket(&weed, "jobs").await;
    jobs_outlive_kubernetes_and_a_restart("archive-s3", "s3://jobs/sparkboard", &weed.env()).await;
    // What the dashboard wrote is where the layout says, under the prefix.
    let store = weed.store("jobs", "sparkboard").await;
    let archive = sparkboard::archive::jobs::JobArchive::new(std::sync::Arc::new(store));
    let (records, pending, _) = archive.census().await.unwrap();
    assert!(records > 0 && pending > 0, "records {records}, pending {pending}");
}

/// S3 goes away while jobs finish: the dashboard says so, keeps listing live jobs and the
/// finished ones in memory, and writes them when S3 is back; a restart then finds them all.
#[tokio::test(flavor = "multi_thread")]
async fn an_s3_outage_degrades_to_live_only_and_loses_nothing() {
    let mut weed = Seaweed::start("archive-outage").await;
    bucket(&weed, "jobs").await;
    let sim = start_sim("archive-outage", &["--speed", "6"]);
    let dashboard = serve(&sim, "s3://jobs", &weed.env());
    wait_ready(&dashboard.url).await;
    // Let it load the (empty) archive first: the outage is about writing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    weed.stop();
    let warned = eventually("a banner about the archive", Duration::from_secs(60), || async {
        let list = get_json(&format!("{}/api/v1/jobs", dashboard.url)).await;
        match list["warnings"].as_array().unwrap().first() {
            Some(w) => Ok((w.as_str().unwrap().to_string(), list)),
            None => Err("no warning yet".to_string()),
        }
    })
    .await;
    assert!(warned.0.contains("cannot be written") && warned.0.contains(&weed.endpoint), "{}", warned.0);
    assert!(warned.1["total"].as_u64().unwrap() >= 15, "live jobs are listed all the same");
    // Jobs deleted from Kubernetes during the outage are still shown, from memory.
    let during: Vec<String> = eventually("jobs deleted during the outage", Duration::from_secs(60), || async {
        let ids: Vec<String> = deleted_jobs(&dashboard.url).await.iter().map(id).collect();
        if ids.len() >= 2 { Ok(ids) } else { Err(format!("{ids:?}")) }
    })
    .await;

    weed.restart().await;
    eventually("the banner to go once S3 is back", Duration::from_secs(90), || async {
        let list = get_json(&format!("{}/api/v1/jobs", dashboard.url)).await;
        if list["warnings"].as_array().unwrap().is_empty() { Ok(()) } else { Err(list["warnings"].to_string()) }
    })
    .await;
    dashboard.terminate();

    let again = serve(&sim, "s3://jobs", &weed.env());
    wait_ready(&again.url).await;
    eventually("every job deleted during the outage, after a restart", Duration::from_secs(30), || async {
        let now: Vec<String> = deleted_jobs(&again.url).await.iter().map(id).collect();
        let missing: Vec<&String> = during.iter().filter(|id| !now.contains(id)).collect();
        if missing.is_empty() { Ok(()) } else { Err(format!("missing {missing:?}")) }
    })
    .await;
}

/// Two replicas share one archive: both write every job they see finish (the same keys, so
/// the writes are idempotent), two compactions race over the same hours, and a third replica
/// started afterwards finds every job either of them saw deleted.
#[tokio::test(flavor = "multi_thread")]
async fn replicas_sharing_an_s3_archive_lose_nothing() {
    let weed = Seaweed::start("archive-replicas").await;
    bucket(&weed, "shared").await;
    let sim = start_sim("archive-replicas", &["--speed", "6"]);
    let (a, b) = (serve(&sim, "s3://shared/jobs", &weed.env()), serve(&sim, "s3://shared/jobs", &weed.env()));
    wait_ready(&a.url).await;
    wait_ready(&b.url).await;
    let seen: Vec<String> = eventually("a few jobs deleted from Kubernetes", Duration::from_secs(60), || async {
        let mut ids: Vec<String> = deleted_jobs(&a.url).await.iter().chain(deleted_jobs(&b.url).await.iter()).map(id).collect();
        ids.sort();
        ids.dedup();
        if ids.len() >= 4 { Ok(ids) } else { Err(format!("{ids:?}")) }
    })
    .await;
    a.terminate();
    b.terminate();

    // Both replicas compact at once, as if the hour had long ended.
    let x = sparkboard::archive::jobs::JobArchive::new(std::sync::Arc::new(weed.store("shared", "jobs").await));
    let y = sparkboard::archive::jobs::JobArchive::new(std::sync::Arc::new(weed.store("shared", "jobs").await));
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
    let (cx, cy) = tokio::join!(x.compact(later), y.compact(later));
    assert!(cx.unwrap().folded + cy.unwrap().folded > 0, "something was compacted");
    let (_, pending, segments) = x.census().await.unwrap();
    assert_eq!(pending, 0, "every pending summary folded");
    assert!(segments >= 1);

    let c = serve(&sim, "s3://shared/jobs", &weed.env());
    wait_ready(&c.url).await;
    eventually("every job either replica saw, on a third one", Duration::from_secs(30), || async {
        let now: Vec<String> = deleted_jobs(&c.url).await.iter().map(id).collect();
        let missing: Vec<&String> = seen.iter().filter(|id| !now.contains(id)).collect();
        if missing.is_empty() { Ok(()) } else { Err(format!("missing {missing:?}")) }
    })
    .await;
}
