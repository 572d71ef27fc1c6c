"""The official Kubernetes Python client against `sparkboard sim`, unchanged.

Usage: client_checks.py KUBECONFIG. Exits non-zero with a message on the first failed check.
"""

import sys
import threading

from kubernetes import client, config, watch


def check(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    custom = client.CustomObjectsApi()

    # list, with a label selector, typed into V1Pod objects
    pods = core.list_pod_for_all_namespaces(label_selector="spark-role=driver")
    check(len(pods.items) >= 10, f"expected the demo's drivers, got {len(pods.items)}")
    check(all(p.metadata.labels["spark-role"] == "driver" for p in pods.items), "selector not applied")
    check(pods.metadata.resource_version.isdigit(), "list has a resourceVersion")

    apps = custom.list_cluster_custom_object("sparkoperator.k8s.io", "v1beta2", "sparkapplications")
    states = {a.get("status", {}).get("applicationState", {}).get("state") for a in apps["items"]}
    check({"RUNNING", "COMPLETED"} <= states, f"states {states}")

    # watch from the list's resourceVersion: only changes after it arrive
    listed = core.list_namespaced_pod("ml")
    rv = int(listed.metadata.resource_version)
    w = watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_pod, "ml", resource_version=str(rv), timeout_seconds=20):
        seen.append(event)
        if len(seen) >= 3:
            w.stop()
    check(len(seen) >= 3, f"watch saw {len(seen)} events in 20 s")
    for event in seen:
        check(event["type"] in ("ADDED", "MODIFIED", "DELETED"), f"event type {event['type']}")
        check(int(event["object"].metadata.resource_version) > rv, "an event from before the watch's version")
        check(event["object"].metadata.namespace == "ml", "event from another namespace")

    # logs, whole and followed
    running = [p for p in core.list_namespaced_pod("ml", label_selector="spark-role=driver").items if p.status.phase == "Running"]
    check(running, "a running driver in ml")
    name = running[0].metadata.name
    text = core.read_namespaced_pod_log(name, "ml", timestamps=True)
    check("INFO SparkContext: Running Spark version" in text, "driver log has Spark's banner")
    tail = core.read_namespaced_pod_log(name, "ml", tail_lines=2)
    check(len(tail.splitlines()) == 2, f"tail_lines=2 gave {tail!r}")

    followed = []
    stream = core.read_namespaced_pod_log(name, "ml", follow=True, _preload_content=False)
    stopper = threading.Timer(15, stream.close)
    stopper.start()
    try:
        for line in stream:
            followed.append(line)
            if len(followed) >= 40:
                break
    except Exception:
        pass
    finally:
        stopper.cancel()
        stream.release_conn()
    check(followed, "follow=True streamed nothing")

    # errors arrive as ApiException with the Status code
    try:
        core.read_namespaced_pod("no-such-pod", "ml")
        check(False, "reading a missing pod should fail")
    except client.exceptions.ApiException as e:
        check(e.status == 404, f"missing pod gave {e.status}")
    try:
        core.list_namespaced_pod("ml", label_selector="a in b")
        check(False, "a bad selector should fail")
    except client.exceptions.ApiException as e:
        check(e.status == 400, f"bad selector gave {e.status}")
    print("python client: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
