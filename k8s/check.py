#!/usr/bin/env python3
"""Offline checks of the Kubernetes manifests (no cluster needed).

  python3 k8s/check.py            # YAML syntax of every k8s/**/*.yaml, then structural checks of each rendered overlay

Rendering uses `kubectl kustomize` (or `kustomize build`) when one is on PATH; otherwise only the syntax is checked.
Needs PyYAML (apt-get install python3-yaml).
"""
import glob
import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.abspath(__file__))
errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def syntax():
    files = sorted(glob.glob(os.path.join(ROOT, "**", "*.yaml"), recursive=True))
    for f in files:
        try:
            list(yaml.safe_load_all(open(f, encoding="utf-8")))
        except yaml.YAMLError as e:
            err(os.path.relpath(f, ROOT), f"YAML error: {e}")
    return len(files)


def render(overlay):
    if shutil.which("kubectl"):
        cmd = ["kubectl", "kustomize", overlay]
    elif shutil.which("kustomize"):
        cmd = ["kustomize", "build", overlay]
    else:
        return None
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        err(overlay, f"kustomize failed: {out.stderr.strip()}")
        return []
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def check_pod(where, spec, gpu_expected, claim_templates=()):
    sc = spec.get("securityContext", {})
    if not sc.get("runAsNonRoot"):
        err(where, "pod securityContext.runAsNonRoot is not true")
    if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        err(where, "seccompProfile RuntimeDefault missing")
    env_names = []
    volumes = {v["name"] for v in spec.get("volumes", [])} | set(claim_templates)
    for c in spec["containers"]:
        cw = f"{where}/{c['name']}"
        csc = c.get("securityContext", {})
        if csc.get("allowPrivilegeEscalation") is not False:
            err(cw, "allowPrivilegeEscalation must be false")
        if csc.get("capabilities", {}).get("drop") != ["ALL"]:
            err(cw, "capabilities.drop must be [ALL]")
        if csc.get("readOnlyRootFilesystem") and not any(m["mountPath"] == "/tmp" for m in c.get("volumeMounts", [])):
            err(cw, "read-only root filesystem without a /tmp mount")
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                err(cw, f"volumeMount {m['name']} has no volume")
        res = c.get("resources", {})
        if not res.get("requests") or not res.get("limits", {}).get("memory"):
            err(cw, "resources.requests and limits.memory are required")
        has_gpu = "nvidia.com/gpu" in res.get("limits", {})
        if gpu_expected is not None and has_gpu != gpu_expected:
            err(cw, f"nvidia.com/gpu limit {'missing' if gpu_expected else 'unexpected'}")
        for p in ("readinessProbe", "livenessProbe"):
            if p not in c:
                err(cw, f"{p} missing")
        names = [e["name"] for e in c.get("env", [])]
        if len(names) != len(set(names)):
            err(cw, f"duplicate env names: {names}")
        env_names.extend(names)
    return env_names


def check_rendered(overlay, docs, gpu_expected):
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    configmaps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    for d in docs:
        where = f"{overlay}:{d['kind']}/{d['metadata'].get('name')}"
        for key in ("apiVersion", "kind", "metadata"):
            if key not in d:
                err(where, f"{key} missing")
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != "depin":
            err(where, "not in namespace depin")
        if "app.kubernetes.io/part-of" not in d["metadata"].get("labels", {}):
            err(where, "app.kubernetes.io/part-of label missing")
        if d["kind"] == "Secret":
            err(where, "a Secret is rendered (the example must stay out of kustomization resources)")
        if d["kind"] in ("Deployment", "StatefulSet"):
            sel = d["spec"]["selector"]["matchLabels"]
            labels = d["spec"]["template"]["metadata"]["labels"]
            if any(labels.get(k) != v for k, v in sel.items()):
                err(where, "selector does not match the pod template labels")
            spec = d["spec"]["template"]["spec"]
            is_silo = d["metadata"]["name"].startswith("depin-") and d["kind"] == "Deployment"
            claims = [t["metadata"]["name"] for t in d["spec"].get("volumeClaimTemplates", [])]
            env = check_pod(where, spec, gpu_expected if d["metadata"]["name"] == "depin-gpu" else (False if is_silo else None), claims)
            for c in spec["containers"]:
                for ef in c.get("envFrom", []):
                    ref = ef.get("configMapRef", {}).get("name")
                    if ref and ref not in configmaps:
                        err(where, f"envFrom references missing ConfigMap {ref}")
            if is_silo:
                if spec.get("terminationGracePeriodSeconds", 30) < 45:
                    err(where, "terminationGracePeriodSeconds < 45")
                for required in ("DEPIN_Silo__Roles", "DEPIN_Silo__AdvertisedIp", "ASPNETCORE_URLS"):
                    if required not in (env or []):
                        err(where, f"env {required} missing")
                # Trusted core: the cluster certificate and the Redis password come from Secrets, never from config.
                for required in ("DEPIN_Silo__Tls__CertificatePath", "DEPIN_Silo__RedisPassword"):
                    if required not in (env or []):
                        err(where, f"env {required} missing")
                password = next((e for e in spec["containers"][0]["env"] if e["name"] == "DEPIN_Silo__RedisPassword"), {})
                if "secretKeyRef" not in password.get("valueFrom", {}):
                    err(where, "DEPIN_Silo__RedisPassword must come from a secretKeyRef")
                # API silos: the admin key and the node token key come from a Secret; no bootstrap key files in a pod.
                roles = next((e.get("value", "") for e in spec["containers"][0]["env"] if e["name"] == "DEPIN_Silo__Roles"), "")
                if "api" in roles:
                    for secret in ("DEPIN_Auth__AdminKey", "DEPIN_NodeGateway__TokenKey"):
                        entry = next((e for e in spec["containers"][0]["env"] if e["name"] == secret), {})
                        if "secretKeyRef" not in entry.get("valueFrom", {}):
                            err(where, f"{secret} must come from a secretKeyRef")
                    bootstrap = next((e for e in spec["containers"][0]["env"] if e["name"] == "DEPIN_Auth__BootstrapKeys"), {})
                    if bootstrap.get("value") != "false":
                        err(where, "DEPIN_Auth__BootstrapKeys must be \"false\" in a pod (keys come from the depin-api Secret)")
                ip = next(e for e in spec["containers"][0]["env"] if e["name"] == "DEPIN_Silo__AdvertisedIp")
                if ip.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "status.podIP":
                    err(where, "DEPIN_Silo__AdvertisedIp must come from status.podIP")
        if d["kind"] in ("HorizontalPodAutoscaler",):
            t = d["spec"]["scaleTargetRef"]
            if (t["kind"], t["name"]) not in names:
                err(where, f"scale target {t['kind']}/{t['name']} not rendered")
    for cm in (d for d in docs if d["kind"] == "ConfigMap"):
        data = cm.get("data", {})
        for key in ("DEPIN_Silo__Redis", "DEPIN_Silo__ClusterId", "DEPIN_Silo__ServiceId", "DEPIN_Scheduler__QueueShards"):
            if not data.get(key):
                err(f"{overlay}:ConfigMap", f"{key} missing or empty")
        if "password" in data.get("DEPIN_Silo__Redis", "").lower():
            err(f"{overlay}:ConfigMap", "DEPIN_Silo__Redis holds a password: use the depin-redis Secret (DEPIN_Silo__RedisPassword)")
        if data.get("DEPIN_Silo__Tls__Mode", "").lower() == "off":
            err(f"{overlay}:ConfigMap", "DEPIN_Silo__Tls__Mode=Off: the cluster would accept any Orleans client")
    return len(docs)


def main():
    n = syntax()
    print(f"syntax: {n} files parsed")
    for overlay, gpu in (("base", True), ("overlays/dev", False), ("overlays/prod", True)):
        docs = render(os.path.join(ROOT, overlay))
        if docs is None:
            print("kubectl/kustomize not found: rendering skipped")
            break
        print(f"{overlay}: {check_rendered(overlay, docs, gpu)} objects rendered")
    for e in errors:
        print("ERROR", e, file=sys.stderr)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
