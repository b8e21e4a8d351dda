#!/usr/bin/python3
"""The Kubernetes manifests as a cluster would get them: k8s/namespace and both overlays
rendered by kubectl's kustomize, every object validated offline against the API schemas
(tests/k8s/validate), and the deployment rules of docs/kubernetes.md checked on the rendered
objects. Run by ctest (k8s_manifests); needs kubectl, node and tests/k8s/validate's npm
packages, which scripts/test installs.
"""
import json
import os
import re
import subprocess
import unittest

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBECTL = os.environ.get("NB_KUBECTL", "kubectl")
NODE = os.environ.get("NB_NODE", "node")
SERVICES = ("ws-frontend", "device-service", "auth-service")


def render(path):
    result = subprocess.run([KUBECTL, "kustomize", os.path.join(ROOT, path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path}: {result.stderr}")
    return result.stdout


def objects(text):
    return [o for o in yaml.safe_load_all(text) if o]


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as cmake:
        return re.search(r"project\(northbound VERSION ([0-9.]+)", cmake.read()).group(1)


def pod_workloads(objs):
    return [o for o in objs if o["kind"] in ("Deployment", "StatefulSet")]


def find(objs, kind, name):
    matches = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


class Rendered(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = {p: render(p) for p in ("k8s/namespace", "k8s/base", "k8s/overlays/dev",
                                           "k8s/overlays/production")}
        cls.objs = {p: objects(t) for p, t in cls.text.items()}
        cls.overlays = {p: cls.objs[p] for p in ("k8s/overlays/dev", "k8s/overlays/production")}

    def test_every_object_is_valid_against_the_api_schemas(self):
        validator = os.path.join(ROOT, "tests/k8s/validate/validate.mjs")
        with open(os.path.join(ROOT, "k8s/examples/ingress-nginx.yaml")) as example:
            ingress = example.read()
        for path, text in list(self.text.items()) + [("k8s/examples/ingress-nginx.yaml", ingress)]:
            result = subprocess.run([NODE, validator, "-"], input=text, capture_output=True,
                                    text=True)
            self.assertEqual(result.returncode, 0, f"{path}:\n{result.stdout}{result.stderr}")
            self.assertIn(": valid", result.stdout, path)

    def test_the_validator_refuses_what_a_cluster_would(self):
        bad = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n"
               "  selector: {matchLabels: {a: b}}\n"
               "  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, "
               "image: i, ports: [{containerPort: http}]}]}}\n---\n"
               "apiVersion: v1\nkind: NoSuchKind\nmetadata: {name: y}\n")
        result = subprocess.run([NODE, os.path.join(ROOT, "tests/k8s/validate/validate.mjs")],
                                input=bad, capture_output=True, text=True)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("containerPort must be integer", result.stdout)
        self.assertIn("no schema for v1 NoSuchKind", result.stdout)

    def test_the_namespace_enforces_restricted_and_lives_apart(self):
        (namespace,) = self.objs["k8s/namespace"]
        self.assertEqual(namespace["kind"], "Namespace")
        labels = namespace["metadata"]["labels"]
        self.assertEqual(labels["pod-security.kubernetes.io/enforce"], "restricted")
        for path, objs in self.overlays.items():
            # `kubectl delete -k` of an overlay must not take the namespace (and with it
            # auth-service's database) along.
            self.assertFalse([o for o in objs if o["kind"] == "Namespace"], path)
            for o in objs:
                if o["kind"] not in ("Namespace",):
                    self.assertEqual(o["metadata"].get("namespace"), "northbound",
                                     f"{path}: {o['kind']}/{o['metadata']['name']}")

    def test_pods_meet_the_restricted_standard_and_have_probes(self):
        for path, objs in self.overlays.items():
            for workload in pod_workloads(objs):
                where = f"{path}: {workload['metadata']['name']}"
                spec = workload["spec"]["template"]["spec"]
                self.assertIs(spec.get("automountServiceAccountToken"), False, where)
                security = spec["securityContext"]
                self.assertEqual(security["seccompProfile"], {"type": "RuntimeDefault"}, where)
                self.assertIs(security["runAsNonRoot"], True, where)
                self.assertEqual(security["runAsUser"], 10001, where)
                for container in spec["containers"]:
                    c = container["securityContext"]
                    self.assertIs(c["allowPrivilegeEscalation"], False, where)
                    self.assertIs(c["readOnlyRootFilesystem"], True, where)
                    self.assertEqual(c["capabilities"]["drop"], ["ALL"], where)
                    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                        self.assertIn(probe, container, where)
                    self.assertIn("memory", container["resources"]["limits"], where)
                    self.assertIn("cpu", container["resources"]["requests"], where)

    def test_images_are_pinned_to_the_release_scripts_images_builds(self):
        version = project_version()
        for path, objs in self.overlays.items():
            images = sorted(c["image"] for w in pod_workloads(objs)
                            for c in w["spec"]["template"]["spec"]["containers"])
            self.assertEqual(images, sorted(f"northbound/{s}:{version}" for s in SERVICES), path)

    def test_frontend_scales_by_hpa_drains_and_spreads(self):
        for path, objs in self.overlays.items():
            frontend = find(objs, "Deployment", "ws-frontend")
            self.assertNotIn("replicas", frontend["spec"], f"{path}: the HPA owns replicas")
            hpa = find(objs, "HorizontalPodAutoscaler", "ws-frontend")
            self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], "ws-frontend")
            scale_down = hpa["spec"]["behavior"]["scaleDown"]
            self.assertGreaterEqual(scale_down["stabilizationWindowSeconds"], 300, path)
            spec = frontend["spec"]["template"]["spec"]
            (container,) = spec["containers"]
            pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
            drain = int(next(a.split("=")[1] for a in container["args"]
                             if a.startswith("--drain_seconds=")))
            self.assertGreater(spec["terminationGracePeriodSeconds"], int(pre_stop[-1]) + drain)
            self.assertTrue(spec["topologySpreadConstraints"], path)
        production = self.overlays["k8s/overlays/production"]
        hpa = find(production, "HorizontalPodAutoscaler", "ws-frontend")
        pdb = find(production, "PodDisruptionBudget", "ws-frontend")
        # The budget means something: more replicas than it lets go at once.
        self.assertGreater(hpa["spec"]["minReplicas"], pdb["spec"]["maxUnavailable"])

    def test_device_service_has_exactly_one_owner(self):
        for path, objs in self.overlays.items():
            device = find(objs, "Deployment", "device-service")
            self.assertEqual(device["spec"]["replicas"], 1, path)
            self.assertEqual(device["spec"]["strategy"], {"type": "Recreate"}, path)
            self.assertFalse([o for o in objs if o["kind"] == "PodDisruptionBudget"
                              and o["metadata"]["name"] == "device-service"], path)

    def test_auth_service_statefulset_keeps_its_database(self):
        for path, objs in self.overlays.items():
            stateful = find(objs, "StatefulSet", "auth-service")
            governing = find(objs, "Service", stateful["spec"]["serviceName"])
            self.assertEqual(governing["spec"]["clusterIP"], "None", path)
            self.assertEqual(stateful["spec"]["persistentVolumeClaimRetentionPolicy"],
                             {"whenDeleted": "Retain", "whenScaled": "Retain"}, path)

    def test_fleets_dev_demo_production_real_devices_only(self):
        dev = find(self.overlays["k8s/overlays/dev"], "Deployment", "device-service")
        args = dev["spec"]["template"]["spec"]["containers"][0]["args"]
        self.assertIn("--fleet=/usr/share/northbound/demo-fleet.yaml", args)
        production = self.overlays["k8s/overlays/production"]
        (fleet_map,) = [o for o in production if o["kind"] == "ConfigMap"
                        and o["metadata"]["name"].startswith("device-fleet")]
        fleet = yaml.safe_load(fleet_map["data"]["fleet.yaml"])
        self.assertTrue(fleet["devices"])
        for device in fleet["devices"]:
            self.assertIn(device.get("driver"), ("mqtt", "modbus"), device["key"])
        device = find(production, "Deployment", "device-service")
        volumes = device["spec"]["template"]["spec"]["volumes"]
        self.assertIn(fleet_map["metadata"]["name"],
                      [v.get("configMap", {}).get("name") for v in volumes])

    def test_network_policies_deny_by_default_and_allow_every_service_port(self):
        for path, objs in self.overlays.items():
            policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
            self.assertTrue([p for p in policies if p["spec"]["podSelector"] == {}
                             and "Ingress" in p["spec"]["policyTypes"]
                             and not p["spec"].get("ingress")], f"{path}: no default deny")
            for service in [o for o in objs if o["kind"] == "Service"]:
                pods = service["spec"]["selector"]
                workload = next(w for w in pod_workloads(objs)
                                if all(w["spec"]["template"]["metadata"]["labels"].get(k) == v
                                       for k, v in pods.items()))
                ports = {p["name"]: p["containerPort"]
                         for c in workload["spec"]["template"]["spec"]["containers"]
                         for p in c["ports"]}
                labels = workload["spec"]["template"]["metadata"]["labels"]
                for port in service["spec"]["ports"]:
                    number = ports[port["targetPort"]]
                    allowed = [p for p in policies
                               if all(labels.get(k) == v for k, v in
                                      p["spec"]["podSelector"].get("matchLabels", {}).items())
                               and any(number in [x["port"] for x in rule.get("ports", [])]
                                       for rule in p["spec"].get("ingress", []))]
                    self.assertTrue(allowed, f"{path}: nothing may reach "
                                             f"{service['metadata']['name']}:{number}")
            device_api = find(objs, "NetworkPolicy",
                              "device-service-from-frontend-and-device-api-callers")
            self.assertIn({"namespaceSelector": {"matchLabels": {"northbound.io/device-api": "true"}}},
                          device_api["spec"]["ingress"][0]["from"])

    def test_monitoring_needs_the_operator_only_where_asked(self):
        operator_kinds = {"ServiceMonitor", "PrometheusRule"}
        for path in ("k8s/base", "k8s/overlays/dev"):
            self.assertFalse([o for o in self.objs[path] if o["kind"] in operator_kinds], path)
        production = self.overlays["k8s/overlays/production"]
        monitoring = [o for o in production if o["kind"] in operator_kinds]
        self.assertEqual(sorted(o["kind"] for o in monitoring), sorted(operator_kinds))
        for o in monitoring:
            self.assertEqual(o["metadata"]["labels"]["release"], "kube-prometheus-stack")

    def test_dashboard_has_variables_units_and_rate_intervals(self):
        (dashboard_map,) = [o for o in self.objs["k8s/base"] if o["kind"] == "ConfigMap"
                            and o["metadata"]["name"].startswith("grafana-dashboard")]
        dashboard = json.loads(dashboard_map["data"]["northbound.json"])
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertIn("namespace", variables)
        self.assertTrue(variables["pod"]["multi"])
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        self.assertGreater(len(panels), 30)
        for panel in panels:
            self.assertTrue(panel["fieldConfig"]["defaults"].get("unit"), panel["title"])
            self.assertEqual(panel["datasource"]["uid"], "${datasource}", panel["title"])
            for target in panel["targets"]:
                expr = target["expr"]
                self.assertIn('namespace="$namespace"', expr, panel["title"])
                self.assertTrue(target.get("legendFormat"), panel["title"])
                for window in re.findall(r"(?:rate|increase)\([^\[]*\[([^\]]+)\]", expr):
                    self.assertIn(window, ("$__rate_interval", "$__range"), panel["title"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
