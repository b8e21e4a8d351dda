#!/usr/bin/python3
"""Runs the rendered dev overlay (k8s/overlays/dev) under `podman kube play` from the images
scripts/images built, and checks it the way a user would: the seed READ_PROPERTY through
ws-frontend, and every service's /metrics. Used by scripts/k8s-smoke.

podman plays Deployments, ConfigMaps and PersistentVolumeClaims. The rest is bridged, and
nothing else in the manifests changes:
- the StatefulSet runs as a Deployment of the same pod template, its volumeClaimTemplate
  as a PersistentVolumeClaim of the name Kubernetes would give it (data-auth-service-0);
- each Service becomes a network alias of the pod it selects, on a podman network of the
  smoke's own, so `device-service:50051` resolves as cluster DNS would;
- the Secret auth-admin, which the docs have the operator create, is made here;
- ports the checks use are published on loopback ports chosen at run time (hostPort);
- HorizontalPodAutoscaler, PodDisruptionBudget and NetworkPolicy have no podman
  counterpart and are only listed.
Every pod, volume, secret and the network are removed at the end, pass or fail.
"""
import argparse
import asyncio
import copy
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import websockets
import yaml

NAMESPACE = "northbound"
# The seed's READ_PROPERTY (docs/protocol.md), on the demo fleet's device1.
SEED_READ = {
    "id": "k8s-smoke",
    "type": "sub",
    "topic": "/device-message-sender/sagoo-product/device1",
    "parameter": {"meta": {"async": False}, "messageType": "READ_PROPERTY",
                  "properties": ["temperature"]},
}


def log(message):
    print(f"k8s-smoke: {message}", flush=True)


def run(*command, check=True, input_text=None, env_token=None):
    env = dict(os.environ, NB_ADMIN_TOKEN=env_token) if env_token else None
    result = subprocess.run(command, capture_output=True, text=True, input=input_text, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


class Smoke:
    def __init__(self, rendered, nbctl):
        self.objects = [o for o in yaml.safe_load_all(rendered) if o]
        self.nbctl = nbctl
        self.tag = f"nb-smoke-{os.getpid()}"
        self.network = self.tag
        self.pods = []
        self.volumes = []
        self.secrets = []
        self.ports = {}  # (workload, port name) -> loopback port
        self.admin_token = secrets.token_urlsafe(32)

    def of_kind(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def workloads(self):
        """Deployments as podman plays them, the StatefulSet turned into one, and PVCs."""
        played = []
        for deployment in self.of_kind("Deployment"):
            played.append(copy.deepcopy(deployment))
        for stateful in self.of_kind("StatefulSet"):
            name = stateful["metadata"]["name"]
            pod_spec = copy.deepcopy(stateful["spec"]["template"])
            for claim in stateful["spec"].get("volumeClaimTemplates", []):
                claim_name = f"{claim['metadata']['name']}-{name}-0"
                played.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                               "metadata": {"name": claim_name}, "spec": claim["spec"]})
                pod_spec["spec"].setdefault("volumes", []).append(
                    {"name": claim["metadata"]["name"],
                     "persistentVolumeClaim": {"claimName": claim_name}})
                self.volumes.append(claim_name)
            played.append({"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": {"name": name, "labels": stateful["metadata"].get("labels", {})},
                            "spec": {"replicas": 1, "selector": stateful["spec"]["selector"],
                                     "template": pod_spec}})
        return played

    def publish(self, deployment):
        """Loopback host ports for the ports the checks use."""
        name = deployment["metadata"]["name"]
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for port in container.get("ports", []):
                host = free_port()
                port["hostPort"] = host
                port["hostIP"] = "127.0.0.1"
                self.ports[(name, port["name"])] = host

    def aliases(self, deployment):
        labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        return [s["metadata"]["name"] for s in self.of_kind("Service")
                if selects(s["spec"].get("selector"), labels)]

    def up(self):
        for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
            names = [o["metadata"]["name"] for o in self.of_kind(kind)]
            if names:
                log(f"not played (no podman counterpart): {kind} {', '.join(names)}")
        for deployment in self.of_kind("Deployment") + self.of_kind("StatefulSet"):
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                if run("podman", "image", "exists", container["image"], check=False).returncode:
                    raise RuntimeError(f"image {container['image']} is not built: "
                                       "run scripts/images")
        run("podman", "network", "create", self.network)
        secret = {"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": "auth-admin"},
                  # podman (4.3) writes `data` values into the volume as they are,
                  # without the base64 decoding Kubernetes does: the token goes in plain.
                  "data": {"token": self.admin_token}}
        run("podman", "secret", "create", "auth-admin", "-", input_text=yaml.safe_dump(secret))
        self.secrets.append("auth-admin")
        config_maps = self.of_kind("ConfigMap")
        played = self.workloads()
        for claim in [o for o in played if o["kind"] == "PersistentVolumeClaim"]:
            run("podman", "kube", "play", "-", input_text=yaml.safe_dump(claim))
        # The services others call first, as their readiness gates the frontend's.
        order = {"auth-service": 0, "device-service": 1}
        deployments = [o for o in played if o["kind"] == "Deployment"]
        for deployment in sorted(deployments, key=lambda o: order.get(o["metadata"]["name"], 2)):
            self.publish(deployment)
            network = self.network + ":" + ",".join(f"alias={a}" for a in self.aliases(deployment))
            run("podman", "kube", "play", "--network", network, "-",
                input_text=yaml.safe_dump_all([deployment] + config_maps))
            self.pods.append(f"{deployment['metadata']['name']}-pod-0")
            log(f"playing {deployment['metadata']['name']} "
                f"(as {', '.join(self.aliases(deployment))})")
        return self

    def down(self):
        for pod in self.pods:
            run("podman", "pod", "rm", "--force", "--time", "20", pod, check=False)
        for volume in self.volumes:
            run("podman", "volume", "rm", "--force", volume, check=False)
        for secret in self.secrets:
            run("podman", "secret", "rm", secret, check=False)
            # podman plays a secret volume as a named volume of the secret's name.
            run("podman", "volume", "rm", "--force", secret, check=False)
        run("podman", "network", "rm", "--force", self.network, check=False)

    def logs(self):
        out = []
        for pod in self.pods:
            listing = run("podman", "ps", "-a", "--pod", "--filter", f"pod={pod}",
                          "--format", "{{.Names}} {{.Status}}", check=False).stdout
            out.append(listing.strip())
            for line in listing.splitlines():
                name = line.split()[0]
                if not name.endswith("-infra"):
                    tail = run("podman", "logs", "--tail", "20", name, check=False)
                    out.append(f"--- {name}\n{tail.stdout}{tail.stderr}")
        return "\n".join(out)

    def http(self, workload, port_name, path):
        url = f"http://127.0.0.1:{self.ports[(workload, port_name)]}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def await_state(self, container, wanted, deadline_s):
        deadline = time.monotonic() + deadline_s
        while True:
            state = run("podman", "inspect", "--format", "{{.State.Status}}",
                        container).stdout.strip()
            if state == wanted:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{container} is {state}, not {wanted}, after {deadline_s} s")
            time.sleep(0.2)

    def await_ready(self, deadline_s):
        deadline = time.monotonic() + deadline_s
        last = None
        while time.monotonic() < deadline:
            try:
                status, body = self.http("ws-frontend", "http", "/readyz")
                if status == 200:
                    log("ws-frontend is ready (device-service and auth-service reachable)")
                    return
                last = body
            except OSError as error:
                last = repr(error)
            time.sleep(0.5)
        raise RuntimeError(f"ws-frontend not ready within {deadline_s} s: {last}")

    def client_token(self):
        result = run(self.nbctl, "--auth", f"127.0.0.1:{self.ports[('auth-service', 'grpc')]}",
                     "client", "create", "--name", "k8s-smoke", "--all-products",
                     "--operations", "read", env_token=self.admin_token)
        for line in result.stdout.splitlines():
            if line.startswith("token: "):
                return line[len("token: "):].strip()
        raise RuntimeError(f"nbctl printed no token: {result.stdout}")

    async def seed_read(self, token):
        url = f"ws://127.0.0.1:{self.ports[('ws-frontend', 'http')]}/messaging"
        headers = {"Authorization": f"Bearer {token}"}
        async with websockets.connect(url, extra_headers=headers, open_timeout=10) as ws:
            await ws.send(json.dumps(SEED_READ))
            frames = []
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                frames.append(frame)
                if frame.get("type") == "complete":
                    return frames

    def read_device1(self, token):
        frames = asyncio.run(self.seed_read(token))
        results = [f for f in frames if f.get("type") == "result"]
        if (len(results) != 1 or results[0].get("deviceId") != "device1"
                or not isinstance(results[0].get("payload", {}).get("temperature"), (int, float))):
            raise RuntimeError(f"the seed READ_PROPERTY answered {frames}")
        return results[0]["payload"]

    def check_pod_security(self):
        """The pod's securityContext reached the containers: uid 10001, read-only root."""
        for pod in self.pods:
            name = pod.removesuffix("-pod-0")
            container = f"{pod}-{name}"
            uid = run("podman", "exec", container, "id", "-u").stdout.strip()
            if uid != "10001":
                raise RuntimeError(f"{container} runs as uid {uid}, not 10001")
            if run("podman", "exec", container, "touch", "/probe", check=False).returncode == 0:
                raise RuntimeError(f"{container} can write its root filesystem")
        log("every container runs as uid 10001 on a read-only root filesystem")

    def check(self):
        self.await_ready(180)
        self.check_pod_security()
        token = self.client_token()
        log(f"seed READ_PROPERTY through ws-frontend: {json.dumps(self.read_device1(token))}")
        # auth-service keeps its clients on the claim's volume: the token outlives a restart.
        # A restarted pod gets a new address here (a Service would keep its own), so the
        # frontend may refuse new sessions with 1013 until its channel re-resolves.
        # Stop, then start: `podman pod restart` (4.3) sometimes leaves the pod stopped.
        restarted = time.monotonic()
        run("podman", "pod", "stop", "--time", "15", "auth-service-pod-0")
        self.await_state("auth-service-pod-0-auth-service", "exited", 30)
        run("podman", "pod", "start", "auth-service-pod-0")
        self.await_state("auth-service-pod-0-auth-service", "running", 30)
        started = time.monotonic()
        self.await_ready(120)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.read_device1(token)
                break
            except websockets.exceptions.ConnectionClosed as closed:
                if closed.code != 1013 or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        log(f"auth-service's pod stopped in {started - restarted:.1f} s; the client's token "
            f"works again {time.monotonic() - started:.1f} s after it started (its database "
            "is on the volume)")
        for workload in ("ws-frontend", "device-service", "auth-service"):
            status, body = self.http(workload, "metrics", "/metrics")
            families = [l for l in body.splitlines() if l.startswith("# TYPE northbound_")]
            if status != 200 or not families:
                raise RuntimeError(f"{workload} /metrics: {status}, no northbound_ families")
            log(f"{workload} /metrics: {len(families)} northbound_ families")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--overlay", required=True)
    parser.add_argument("--nbctl", required=True)
    parser.add_argument("--keep", action="store_true",
                        help="leave the pods running after the checks (then: podman pod rm)")
    args = parser.parse_args()
    rendered = run("kubectl", "kustomize", args.overlay).stdout
    smoke = Smoke(rendered, args.nbctl)
    try:
        smoke.up()
        smoke.check()
    except Exception as error:  # noqa: BLE001 - report, tear down, fail
        log(f"FAILED: {error}")
        print(smoke.logs(), flush=True)
        return 1
    finally:
        if not args.keep:
            smoke.down()
    log("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
