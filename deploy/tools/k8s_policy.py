#!/usr/bin/python3
"""Offline checks of the built Kubernetes manifests (kubectl kustomize output)
that a schema alone does not make:

1. strict fields: every key of every object is a field of its Kubernetes type
   (the models of Debian's python3-kubernetes), so a misspelt field (e.g.
   `readOnlyRootFilesytem`) fails instead of being silently dropped;
2. the Manager's deployment rules (deploy/README.md): replicas, probes,
   non-root read-only containers with resources, Redis AOF on a volume, the
   CA key mounted only into ca-svc, internal addresses on tls+tcp:// naming
   exactly the pods that exist, NetworkPolicies, PodDisruptionBudgets.

usage: k8s_policy.py FILE.yaml ; exit 1 on any error.
"""
import re
import sys

import kubernetes.client as kc
import yaml

errors = []


def err(where, msg):
    errors.append("%s: %s" % (where, msg))


KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Service"): "V1Service",
    ("v1", "Secret"): "V1Secret",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
}
# Fields newer than the models of python3-kubernetes 22 (Kubernetes 1.22).
NEWER = {("V1EmptyDirVolumeSource", "sizeLimit")}


def strict(where, value, typ):
    """Walks value along the model type name typ ('V1Pod', 'list[V1X]',
    'dict(str, V1X)', 'str', ...)."""
    if value is None:
        return
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            err(where, "should be a list")
            return
        for i, v in enumerate(value):
            strict("%s[%d]" % (where, i), v, m.group(1))
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if not isinstance(value, dict):
            err(where, "should be a map")
            return
        for k, v in value.items():
            strict("%s.%s" % (where, k), v, m.group(1))
        return
    cls = getattr(kc, typ, None)
    if cls is None or not hasattr(cls, "attribute_map"):
        return  # scalar, object, or quantity
    if not isinstance(value, dict):
        err(where, "should be an object (%s)" % typ)
        return
    names = {json: attr for attr, json in cls.attribute_map.items()}
    for k, v in value.items():
        if k not in names:
            if (typ, k) not in NEWER:
                err(where, "unknown field %r in %s" % (k, typ))
            continue
        strict("%s.%s" % (where, k), v, cls.openapi_types[names[k]])


def quantity(q):
    """Bytes of a Kubernetes memory quantity (2Gi, 512M) or a Redis size
    (1536mb = MiB, 1g = 10^9); None when it is not one."""
    if q is None:
        return None
    m = re.fullmatch(r"(\d+)([a-zA-Z]*)", str(q))
    if not m:
        return None
    unit = {"": 1, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3,
            "ki": 1024, "mi": 1024 ** 2, "gi": 1024 ** 3,
            "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}.get(m.group(2).lower())
    # Kubernetes' "M" and "G" are 10^6 and 10^9, like Redis' "m" and "g".
    return None if unit is None else int(m.group(1)) * unit


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def main(path):
    objs = load(path)
    by = {}
    for o in objs:
        key = (o.get("apiVersion"), o.get("kind"))
        name = (o.get("metadata") or {}).get("name")
        where = "%s/%s" % (key[1], name)
        if key not in KINDS:
            err(where, "kind not allowed here: %s %s" % key)
            continue
        strict(where, {k: v for k, v in o.items()}, KINDS[key])
        by.setdefault(key[1], {})[name] = o

    workloads = dict(by.get("Deployment", {}))
    workloads.update(by.get("StatefulSet", {}))
    for comp in ("gateway", "account", "ca", "vault", "redis"):
        if comp not in workloads:
            err("workloads", "no Deployment/StatefulSet %r" % comp)
    # The generated ConfigMap is manager-config-<hash>.
    config = next((c.get("data", {}) for n, c in by.get("ConfigMap", {}).items()
                   if n == "manager-config" or n.startswith("manager-config-")), {})

    for name, w in workloads.items():
        where = "%s/%s" % (w["kind"], name)
        spec = w["spec"]
        pod = spec["template"]["spec"]
        if name != "redis" and spec.get("replicas", 1) < 2:
            err(where, "needs 2 or more replicas")
        psc = pod.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            err(where, "pod securityContext.runAsNonRoot must be true")
        if (psc.get("runAsUser") or 0) == 0:
            err(where, "pod must run as a non-root uid")
        for c in pod["containers"]:
            cw = "%s container %s" % (where, c["name"])
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True:
                err(cw, "readOnlyRootFilesystem must be true")
            if sc.get("allowPrivilegeEscalation") is not False:
                err(cw, "allowPrivilegeEscalation must be false")
            if "ALL" not in (sc.get("capabilities", {}).get("drop") or []):
                err(cw, "must drop ALL capabilities")
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(part) or {}):
                        err(cw, "resources.%s.%s missing" % (part, r))
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in c:
                    err(cw, "%s missing" % probe)
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            vols = {v["name"]: v for v in pod.get("volumes", [])}
            ca_key = [v for v in vols.values()
                      if (v.get("secret") or {}).get("secretName") == "manager-ca"]
            if ca_key and name != "ca":
                err(cw, "only ca-svc may mount the CA key Secret")
            if name == "ca":
                if not ca_key or ca_key[0]["name"] not in mounts:
                    err(cw, "ca-svc must mount the CA key Secret manager-ca")
                env = {e["name"]: e.get("value") for e in c.get("env", [])}
                for var in ("MANAGER_CA_KEY_FILE", "MANAGER_CA_CERT_FILE"):
                    if not env.get(var, "").startswith("/etc/manager/ca/"):
                        err(cw, "%s must point into the mounted CA Secret" % var)
            if name == "gateway":
                paths = {p: (c.get(p, {}).get("httpGet") or {}).get("path")
                         for p in ("readinessProbe", "livenessProbe")}
                if paths != {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}:
                    err(cw, "probes must be /readyz (readiness) and /healthz (liveness)")
            if name in ("gateway", "account", "ca", "vault"):
                vol = next((v for v in vols.values() if (v.get("secret") or {})
                            .get("secretName") == "manager-internal-" + name), None)
                if vol is None or vol["name"] not in mounts:
                    err(cw, "must mount its internal TLS Secret manager-internal-%s" % name)
            if name == "redis":
                args = c.get("args", [])
                joined = " ".join(args)
                if "--appendonly yes" not in joined or "--appendfsync always" not in joined:
                    err(cw, "Redis must run with --appendonly yes --appendfsync always")
                # Full memory must be refused writes (noeviction), not an
                # OOM kill: maxmemory below the limit, with room for the
                # AOF rewrite's fork and the client buffers.
                limit = quantity(res.get("limits", {}).get("memory"))
                mm = quantity(args[args.index("--maxmemory") + 1]) if "--maxmemory" in args else None
                if "--maxmemory-policy noeviction" not in joined:
                    err(cw, "Redis must run with --maxmemory-policy noeviction")
                if mm is None or mm <= 0:
                    err(cw, "Redis must set --maxmemory")
                elif limit is None or mm > 0.8 * limit:
                    err(cw, "Redis --maxmemory (%s bytes) must be at most 80%% of its memory limit (%s)"
                        % (mm, limit))
                # The password comes from a Secret, never from the manifest.
                envs = {e["name"]: e for e in c.get("env", [])}
                pw = args[args.index("--requirepass") + 1] if "--requirepass" in args else ""
                m = re.fullmatch(r"\$\((\w+)\)", pw)
                if not m or "secretKeyRef" not in (envs.get(m.group(1), {}).get("valueFrom") or {}):
                    err(cw, "Redis --requirepass must come from a Secret ($(VAR) of a secretKeyRef)")
                claims = [t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])]
                dirarg = args[args.index("--dir") + 1] if "--dir" in args else None
                if not any(m["name"] in claims and m["mountPath"] == dirarg
                           for m in c.get("volumeMounts", [])):
                    err(cw, "Redis --dir must be on a PersistentVolumeClaim")

    # Internal addresses: tls+tcp:// only, one per existing pod.
    for svc in ("account", "ca", "vault"):
        var = "MANAGER_%s_ADDR" % svc.upper()
        addrs = [a for a in config.get(var, "").split(",") if a]
        sts = by.get("StatefulSet", {}).get(svc)
        if not addrs:
            err("ConfigMap/manager-config", "%s missing" % var)
            continue
        for a in addrs:
            if not a.startswith("tls+tcp://"):
                err("ConfigMap/manager-config", "%s: %s is not tls+tcp://" % (var, a))
        if sts is not None:
            want = ["tls+tcp://%s-%d.%s:7001" % (svc, i, sts["spec"]["serviceName"])
                    for i in range(sts["spec"].get("replicas", 1))]
            if sorted(addrs) != sorted(want):
                err("ConfigMap/manager-config",
                    "%s must list every %s pod: %s" % (var, svc, ",".join(want)))
            hl = by.get("Service", {}).get(sts["spec"]["serviceName"])
            if hl is None or hl["spec"].get("clusterIP") != "None":
                err("StatefulSet/" + svc, "needs a headless Service")
    if not config.get("MANAGER_LISTEN_ADDR", "").startswith("tls+tcp://"):
        err("ConfigMap/manager-config", "MANAGER_LISTEN_ADDR must be tls+tcp://")

    gw = by.get("Service", {}).get("gateway")
    if gw is None or gw["spec"].get("type") not in ("LoadBalancer", "ClusterIP") or \
            8443 not in [p["port"] for p in gw["spec"].get("ports", [])]:
        err("Service/gateway", "needs a LoadBalancer/ClusterIP Service on 8443")

    pdbs = [p["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/component")
            for p in by.get("PodDisruptionBudget", {}).values()]
    for comp in ("gateway", "account", "ca", "vault", "redis"):
        if comp not in pdbs:
            err("PodDisruptionBudget", "none for %s" % comp)

    nps = by.get("NetworkPolicy", {}).values()
    if not any(n["spec"].get("podSelector") == {} and "Ingress" in n["spec"].get("policyTypes", [])
               and not n["spec"].get("ingress") for n in nps):
        err("NetworkPolicy", "needs a default deny of ingress")
    for n in nps:
        sel = n["spec"].get("podSelector", {})
        comps = set((sel.get("matchLabels") or {}).values())
        for e in sel.get("matchExpressions", []) or []:
            comps.update(e.get("values", []))
        for rule in n["spec"].get("ingress", []) or []:
            if "from" not in rule and not comps <= {"gateway", "manager"}:
                err("NetworkPolicy/" + n["metadata"]["name"],
                    "only the gateway may accept traffic from anywhere")

    # Claims: sized, with an access mode, and one that replicas can share
    # when a workload of several replicas mounts it; every claim a pod
    # names exists; no pod reaches the node's disk (hostPath).
    claims = by.get("PersistentVolumeClaim", {})
    for name, c in claims.items():
        where = "PersistentVolumeClaim/%s" % name
        spec = c.get("spec") or {}
        if not spec.get("accessModes"):
            err(where, "needs accessModes")
        size = quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
        if not size:
            err(where, "needs resources.requests.storage (a size)")
    for name, w in workloads.items():
        where = "%s/%s" % (w["kind"], name)
        pod = w["spec"]["template"]["spec"]
        for v in pod.get("volumes", []):
            if "hostPath" in v:
                err(where, "volume %s: no hostPath" % v.get("name"))
            pvc = v.get("persistentVolumeClaim")
            if pvc is None:
                continue
            c = claims.get(pvc.get("claimName"))
            if c is None:
                err(where, "volume %s: no PersistentVolumeClaim %s" %
                    (v.get("name"), pvc.get("claimName")))
            elif (w["spec"].get("replicas", 1) > 1 and
                  "ReadWriteMany" not in (c.get("spec") or {}).get("accessModes", [])):
                err(where, "volume %s: %d replicas share claim %s, which is not "
                    "ReadWriteMany" % (v.get("name"), w["spec"].get("replicas", 1),
                                       pvc.get("claimName")))

    for e in errors:
        print("ERROR " + e, file=sys.stderr)
    print("%d objects, strict fields and deployment rules: %d errors" % (len(objs), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
