//! The merged log pipeline against real parts: the simulated cluster's pod log API through
//! kube-rs, and log archives in SeaweedFS written in each shipper's layout (Fluent Bit, Vector,
//! CRI files) by the simulated shipper, whose writer shares no code with the dashboard's reader. Each test writes known lines and checks that every one comes back exactly once,
//! in order: from the archive after the pod is gone, across the archive-to-live cut-over, and
//! through follow streams that the API keeps cutting (mid-line).

mod common;

use app::api::{JobDetail, LogLevel};
use app::log_query::LogQuery;
use common::Seaweed;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sparkboard::archive::store::ObjectStore;
use sparkboard::logs::event::Event;
use sparkboard::logs::key_template::{CRI_DEFAULT, FLUENT_BIT_DEFAULT, KeyTemplate, KeyVars, VECTOR_DEFAULT};
use sparkboard::logs::live::KubeLogs;
use sparkboard::logs::plan::{LogService, Lookup};
use sparkboard::logs::record::RecordFormat;
use sparkboard::logs::shipped::ShippedLogs;
use sparkboard::logs::source::{PodNow, PodProbe};
use sparkboard_sim::SimState;
use sparkboard_sim::log_shipper::{self, KeyLayout, ObjectWriter, ShipFormat, ShipOptions};
use sparkboard_sim::resources::PODS;
use sparkboard_sim::store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const NS: &str = "etl";
const POD: &str = "orders-exec-1";
const CONTAINER: &str = "spark-kubernetes-executor";

/// The probe asks the simulated cluster itself.
struct StoreProbe(Arc<Store>);

impl PodProbe for StoreProbe {
    fn state(&self, namespace: &str, pod: &str) -> PodNow {
        match self.0.get(&PODS, namespace, pod) {
            Err(_) => PodNow::Gone,
            Ok(pod) if pod["status"]["phase"] == "Running" => PodNow::Running,
            Ok(_) => PodNow::Stopped,
        }
    }
}

struct World {
    sim: SimState,
    client: kube::Client,
    start: Timestamp,
    /// The shipper's memory of what it has uploaded, kept across rounds as a real one keeps it.
    shipped: tokio::sync::Mutex<(HashMap<usize, log_shipper::Shipping>, u64)>,
}

impl World {
    fn new(cut_follows_after: Option<Duration>) -> World {
        let sim = SimState { cut_log_follows_after: cut_follows_after, ..SimState::new(Arc::new(Store::default()), 1.0) };
        let client = kube::Client::new(sparkboard_sim::api::router(sim.clone()), "default");
        let start = Timestamp::now().checked_sub(SignedDuration::from_mins(10)).unwrap();
        World { sim, client, start, shipped: Default::default() }
    }

    fn run_pod(&self) {
        let pod = json!({"metadata": {"name": POD, "namespace": NS}, "spec": {"containers": [{"name": CONTAINER}]},
                         "status": {"phase": "Running", "containerStatuses": [{"name": CONTAINER, "restartCount": 0, "state": {"running": {}}}]}});
        self.sim.store.create(&PODS, pod).unwrap();
    }

    fn stop_pod(&self) {
        let stopped = json!({"phase": "Succeeded", "containerStatuses": [{"name": CONTAINER, "state": {"terminated": {"exitCode": 0}}}]});
        self.sim.store.update(&PODS, NS, POD, |pod| pod["status"] = stopped).unwrap();
        self.sim.logs.current(NS, POD, CONTAINER).finish();
    }

    fn delete_pod(&self) {
        self.sim.store.delete(&PODS, NS, POD).unwrap();
        self.sim.logs.remove_pod(NS, POD);
    }

    /// Writes `text` at `start + ms`.
    fn write(&self, ms: i64, text: &str) {
        let time = self.start.checked_add(SignedDuration::from_millis(ms)).unwrap();
        self.sim.logs.current(NS, POD, CONTAINER).push(time, text);
    }

    fn service(&self, archive: Option<Arc<ShippedLogs>>) -> LogService {
        LogService {
            archive,
            live: Some(Arc::new(KubeLogs::new(self.client.clone()))),
            probe: Arc::new(StoreProbe(self.sim.store.clone())),
            operator: None,
        }
    }

    fn detail(&self, deleted: bool, running: bool) -> JobDetail {
        serde_json::from_value(json!({
            "namespace": NS, "name": "orders", "state": if running { "RUNNING" } else { "COMPLETED" }, "app_id": "spark-1", "user": null,
            "submitted_at": self.start, "started_at": self.start, "finished_at": if running { None } else { Some(Timestamp::now()) },
            "duration_s": null, "executors": {"requested": 1, "running": 0, "completed": 0, "failed": 0, "oom_killed": 0},
            "failure": null, "airflow": null,
            "pods": [{"name": POD, "role": "executor", "node": null, "instance_type": null, "capacity_type": null,
                      "phase": if running { "Running" } else { "Succeeded" }, "restarts": 0, "exit_code": null, "reason": null,
                      "started_at": self.start, "finished_at": null, "deleted": deleted, "containers": [CONTAINER], "executor_id": "1"}],
            "events": [], "spark_conf": {}
        }))
        .unwrap()
    }

    /// Reads the job's log as the API would, whole.
    async fn read(&self, service: &LogService, detail: JobDetail, query: &str) -> Vec<Event> {
        let query = LogQuery::from_query_string(query).unwrap();
        // As the model would: once the pod stops, the job has finished.
        let (running, finished) = (detail.clone(), self.detail(detail.pods[0].deleted, false));
        let store = self.sim.store.clone();
        let lookup: Lookup = Arc::new(move || {
            let stopped = store.get(&PODS, NS, POD).map_or(true, |p| p["status"]["phase"] != "Running");
            let detail = if stopped { finished.clone() } else { running.clone() };
            Box::pin(async move { Some(detail) })
        });
        let mut merge = service.open(detail, &query, lookup).await;
        let mut events = Vec::new();
        while let Some(batch) = tokio::time::timeout(Duration::from_secs(60), merge.next_batch()).await.expect("the log ends") {
            events.extend(batch);
        }
        events
    }

    async fn ship(&self, options: &ShipOptions) {
        let mut shipped = self.shipped.lock().await;
        let (state, n) = &mut *shipped;
        log_shipper::ship_once(&self.sim.logs, options, state, n).await;
    }
}

/// A Fluent Bit archive in a fresh local directory, and the simulated shipper's writer into it.
fn local_fluent_bit(name: &str) -> (Arc<dyn ObjectStore>, KeyTemplate, Arc<dyn ObjectWriter>) {
    let dir = common::scratch_dir(name);
    let store: Arc<dyn ObjectStore> = Arc::new(sparkboard::archive::local::LocalDir::new(&dir));
    (store, KeyTemplate::parse(FLUENT_BIT_DEFAULT).unwrap(), Arc::new(log_shipper::LocalDir::new(dir)))
}

/// The simulated shipper in `format`'s own layout, shipping every second.
fn shipper(writer: Arc<dyn ObjectWriter>, format: ShipFormat) -> ShipOptions {
    ShipOptions { writer, format, layout: KeyLayout::default_for(format), every: Duration::from_secs(1) }
}

fn fluent_bit_logs(store: Arc<dyn ObjectStore>, template: KeyTemplate) -> Arc<ShippedLogs> {
    Arc::new(ShippedLogs { store, format: RecordFormat::FluentBit, template })
}

/// The test pod's container, as archive keys name it.
fn vars() -> KeyVars<'static> {
    KeyVars { namespace: NS, pod: POD, container: CONTAINER, app_id: None }
}

/// One Fluent Bit record: `log` at `time`.
fn fluent_bit_record(time: Timestamp, log: &str) -> String {
    format!("{{\"time\":\"{}\",\"log\":\"{log}\"}}\n", sparkboard_sim::pod_log::rfc3339_nano_fixed(time))
}

fn header(i: usize) -> String {
    format!("26/11/21 05:00:00 INFO Executor: line {i}")
}

fn texts(events: &[Event]) -> Vec<String> {
    events.iter().filter(|e| e.level != LogLevel::Marker).map(|e| e.text.clone()).collect()
}

fn markers(events: &[Event]) -> Vec<String> {
    events.iter().filter(|e| e.level == LogLevel::Marker).map(|e| e.text.clone()).collect()
}

/// Every layout: a deleted executor's log comes back whole from SeaweedFS, stack traces folded,
/// a long line joined from the runtime's partial records and cut at the line limit, and a
/// damaged object named in a marker while the rest flows.
#[tokio::test]
async fn every_shipper_layout_reads_back_from_s3() {
    let weed = Seaweed::start("logs-layouts").await;
    for (format, template, shipped_as, name) in [
        (RecordFormat::FluentBit, FLUENT_BIT_DEFAULT, ShipFormat::FluentBit, "fluent-bit"),
        (RecordFormat::Vector, VECTOR_DEFAULT, ShipFormat::Vector, "vector"),
        (RecordFormat::Cri, CRI_DEFAULT, ShipFormat::Cri, "cri"),
    ] {
        let world = World::new(None);
        world.run_pod();
        let store = weed.store("logs", name).await;
        store.create_bucket().await.unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(store);
        let template = KeyTemplate::parse(template).unwrap();
        let ship = shipper(Arc::new(weed.ship_writer("logs", name).await), shipped_as);
        let long = format!("26/11/21 05:00:00 INFO Big: {}", "x".repeat(100_000 - 28));
        world.write(0, &header(0));
        world.write(1, "26/11/21 05:00:00 ERROR Executor: Exception in task 0.0");
        world.write(1, "java.lang.IllegalStateException: boom");
        world.write(1, "\tat a.B.c(B.java:1)");
        world.write(2, &long);
        world.write(3, &header(1));
        world.write(3, &header(2));
        world.ship(&ship).await;
        // Another pod in the same (Vector: shared) objects must not leak in.
        world.sim.logs.current(NS, "other-exec-9", CONTAINER).push(world.start, "not ours");
        world.write(4, &header(3));
        world.ship(&ship).await;
        world.delete_pod();
        let events = world
            .read(
                &world.service(Some(Arc::new(ShippedLogs { store: store.clone(), format, template: template.clone() }))),
                world.detail(true, false),
                "",
            )
            .await;
        let got = texts(&events);
        let short: Vec<&str> = got.iter().map(|t| &t[..t.len().min(80)]).collect();
        assert_eq!(got.len(), 6, "{name}: {short:#?}");
        assert_eq!(got[0], header(0));
        assert_eq!(got[1].lines().count(), 3, "{name}: the trace folds into its error");
        assert_eq!(events[1].level, LogLevel::Error);
        assert!(
            got[2].starts_with("26/11/21 05:00:00 INFO Big: xxxx") && got[2].ends_with("[line cut: 100000 bytes, first 65536 shown]"),
            "{name}: {}",
            &got[2][got[2].len() - 80..]
        );
        assert_eq!(&got[3..], [header(1), header(2), header(3)], "{name}");
        assert!(markers(&events).is_empty(), "{name}: {:?}", markers(&events));
        assert_eq!(events[3].source.source.label(), "exec-1");
        assert_ne!(events[3].id(), events[4].id(), "{name}: ids differ");

        // A damaged object: a marker names it, the other objects still read.
        let key = template.render(&vars(), world.start.checked_add(SignedDuration::from_millis(5)).unwrap(), &mut |_| "damaged".into());
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        gz.extend_from_slice(b"this is not deflate data at all");
        store.put(&key, gz.into()).await.unwrap();
        let events =
            world.read(&world.service(Some(Arc::new(ShippedLogs { store, format, template }))), world.detail(true, false), "").await;
        assert_eq!(texts(&events).len(), 6, "{name}");
        let marks = markers(&events);
        assert!(marks.len() == 1 && marks[0].contains("is damaged") && marks[0].contains("damaged"), "{name}: {marks:?}");
    }
}

/// A running pod whose older lines are only archived: the archive gives them, the live API the
/// rest, with no gap and no duplicate across lines that share a second and a nanosecond.
#[tokio::test]
async fn the_archive_and_the_live_api_meet_without_a_gap_or_a_duplicate() {
    let weed = Seaweed::start("logs-cutover").await;
    let world = World::new(None);
    world.run_pod();
    let store = weed.store("logs", "cutover").await;
    store.create_bucket().await.unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    let template = KeyTemplate::parse(FLUENT_BIT_DEFAULT).unwrap();
    let ship = shipper(Arc::new(weed.ship_writer("logs", "cutover").await), ShipFormat::FluentBit);
    // Three lines per millisecond, and the cut-over in the middle of a millisecond and a second.
    for i in 0..3000 {
        world.write(i as i64 / 3, &header(i));
    }
    world.ship(&ship).await;
    for i in 3000..4000 {
        world.write(i as i64 / 3, &header(i));
    }
    let archive = Arc::new(ShippedLogs { store, format: RecordFormat::FluentBit, template });
    let events = world.read(&world.service(Some(archive.clone())), world.detail(false, true), "").await;
    let expected: Vec<String> = (0..4000).map(header).collect();
    assert_eq!(texts(&events), expected);
    assert!(events[..3000].iter().all(|e| e.stream == Some("stderr")), "the first part is the archive's");
    assert!(events[3000..].iter().all(|e| e.stream.is_none()), "the rest is the live API's");
    // The same lines give the same ids from either side.
    let live_only = world.read(&world.service(None), world.detail(false, true), "").await;
    let ids: Vec<String> = live_only.iter().map(Event::id).collect();
    assert_eq!(ids, events.iter().map(Event::id).collect::<Vec<_>>());
    // Filters: a span and a level.
    let since = world.start.checked_add(SignedDuration::from_millis(1000)).unwrap();
    let after = world.read(&world.service(Some(archive)), world.detail(false, true), &format!("since={since}")).await;
    assert_eq!(texts(&after).first(), Some(&header(3000)));
}

/// Following a running pod while the API cuts every follow stream (mid-line) after 150 ms:
/// every line written arrives exactly once, in order.
#[tokio::test]
async fn follow_survives_cut_streams_without_losing_or_repeating_a_line() {
    let world = Arc::new(World::new(Some(Duration::from_millis(150))));
    world.run_pod();
    world.write(0, &header(0));
    let writer = {
        let world = world.clone();
        tokio::spawn(async move {
            for i in 1..3000usize {
                // Seven lines per millisecond of log time: many share a nanosecond timestamp.
                world.write(i as i64 / 7, &header(i));
                if i % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            world.stop_pod();
        })
    };
    let events = world.read(&world.service(None), world.detail(false, true), "follow=true").await;
    writer.await.unwrap();
    let got = texts(&events);
    let expected: Vec<String> = (0..3000).map(header).collect();
    let lost = expected.iter().filter(|l| !got.contains(l)).count();
    let mut seen = std::collections::HashSet::new();
    let duplicated = got.iter().filter(|l| !seen.insert(*l)).count();
    let cuts = world.sim.stats.log_follows_cut.load(std::sync::atomic::Ordering::Relaxed);
    assert!(cuts >= 5, "the API cut follows {cuts} times");
    assert_eq!((lost, duplicated), (0, 0), "after {cuts} cuts");
    assert_eq!(got, expected);
}

/// A deleted pod with no archive: a marker says its log is gone, and why.
#[tokio::test]
async fn a_deleted_pod_without_an_archive_says_so() {
    let world = World::new(None);
    world.run_pod();
    world.write(0, &header(0));
    world.delete_pod();
    let events = world.read(&world.service(None), world.detail(true, false), "").await;
    let marks = markers(&events);
    assert_eq!(marks.len(), 1, "{events:?}");
    assert!(marks[0].contains("exec-1: pod orders-exec-1 was deleted") && marks[0].contains("no log archive is configured"), "{marks:?}");
}

/// Lines a shipper's object holds that are not records (a truncated write, another tool's
/// output): one marker counts them and names the first problem; the good records still read.
#[tokio::test]
async fn unreadable_records_are_counted_in_one_marker() {
    let world = World::new(None);
    let (store, template, _) = local_fluent_bit("logs-unreadable");
    let key = template.render(&vars(), world.start, &mut |_| "x".into());
    let time = sparkboard_sim::pod_log::rfc3339_nano_fixed(world.start);
    let body = format!("{}not json\n{{\"log\":\"no time\"}}\n{{\"time\":\"{time}\"}}\n", fluent_bit_record(world.start, &header(0)));
    store.put(&key, body.into()).await.unwrap();
    let events = world.read(&world.service(Some(fluent_bit_logs(store, template))), world.detail(true, false), "").await;
    assert_eq!(texts(&events), [header(0)]);
    let marks = markers(&events);
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert!(marks[0].contains("3 unreadable line(s) skipped in archive object") && marks[0].contains("not a JSON record"), "{marks:?}");
}

/// Two uploads within one second: their keys differ only in the random suffix, which here sorts
/// the later upload first. The lines still come in time order, without an out-of-order marker.
#[tokio::test]
async fn uploads_within_one_second_read_in_the_order_of_their_lines() {
    let world = World::new(None);
    let (store, template, _) = local_fluent_bit("logs-same-second");
    let record = |i: usize| fluent_bit_record(world.start.checked_add(SignedDuration::from_millis(100 * i as i64)).unwrap(), &header(i));
    let (earlier, later): (String, String) = ((0..3).map(record).collect(), (3..6).map(record).collect());
    store.put(&template.render(&vars(), world.start, &mut |_| "b".into()), earlier.into()).await.unwrap();
    store.put(&template.render(&vars(), world.start, &mut |_| "a".into()), later.into()).await.unwrap();
    let events = world.read(&world.service(Some(fluent_bit_logs(store, template))), world.detail(true, false), "").await;
    assert_eq!(texts(&events), (0..6).map(header).collect::<Vec<_>>());
    assert_eq!(markers(&events), Vec::<String>::new());
}

/// A pod deleted moments ago whose archive ends well before the pod stopped: the shipper may
/// still be uploading its last lines, and a marker says so; an archive that reaches the end
/// says nothing.
#[tokio::test]
async fn a_recently_deleted_pod_whose_archive_ends_early_says_its_end_may_be_coming() {
    let world = World::new(None);
    world.run_pod();
    let (store, template, writer) = local_fluent_bit("logs-upload-lag");
    let ship = shipper(writer, ShipFormat::FluentBit);
    world.write(0, &header(0));
    world.write(1000, &header(1));
    world.ship(&ship).await;
    world.delete_pod();
    let service = world.service(Some(fluent_bit_logs(store, template)));

    let mut lagging = world.detail(true, false);
    lagging.pods[0].finished_at = Some(Timestamp::now());
    let events = world.read(&service, lagging, "").await;
    assert_eq!(texts(&events), [header(0), header(1)]);
    let marks = markers(&events);
    assert!(marks.len() == 1 && marks[0].contains("its last lines may not be uploaded yet"), "{marks:?}");
    assert_eq!(events.last().unwrap().time, events[1].time, "the marker stands where the archive ends");

    let mut complete = world.detail(true, false);
    complete.pods[0].finished_at = Some(world.start.checked_add(SignedDuration::from_millis(1500)).unwrap());
    let events = world.read(&service, complete, "").await;
    assert_eq!(markers(&events), Vec::<String>::new());
}
