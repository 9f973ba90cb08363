#!/usr/bin/env python3
"""deploy/k8s/monitoring checked against the main manifests, offline.

  check-servicemonitor.py MONITORING.yaml MAIN.yaml   (both `kubectl kustomize` output)

A Prometheus Operator ServiceMonitor (monitoring.coreos.com/v1) has no schema
in kubernetes-models, so its fields are checked here: only fields the
operator knows, a selector that picks exactly the gateway Service of the
main build (in the namespace it names), an endpoint on a port that Service
has, HTTPS on /metrics with the Manager CA's Secret as trust, a scrape
timeout below the interval. Prints what breaks; exit 1 then.
"""
import re
import sys

import yaml

SPEC = {"selector", "namespaceSelector", "endpoints", "jobLabel", "targetLabels",
        "podTargetLabels", "sampleLimit"}
ENDPOINT = {"port", "targetPort", "path", "scheme", "interval", "scrapeTimeout",
            "tlsConfig", "honorLabels", "relabelings", "metricRelabelings", "params"}
TLS = {"ca", "cert", "keySecret", "serverName", "insecureSkipVerify"}


def seconds(d):
    m = re.fullmatch(r"(\d+)(s|m)", str(d))
    if not m:
        return None
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


def main():
    mon = [o for o in yaml.safe_load_all(open(sys.argv[1])) if o]
    main_objs = [o for o in yaml.safe_load_all(open(sys.argv[2])) if o]
    bad = []
    sms = [o for o in mon if o.get("kind") == "ServiceMonitor"]
    if len(sms) != 1 or len(mon) != 1:
        bad.append("want exactly one object, a ServiceMonitor")
    for sm in sms:
        if sm.get("apiVersion") != "monitoring.coreos.com/v1":
            bad.append("apiVersion %r" % sm.get("apiVersion"))
        md, spec = sm.get("metadata", {}), sm.get("spec", {})
        ns = md.get("namespace")
        for k in set(spec) - SPEC:
            bad.append("unknown spec field %s" % k)
        names = spec.get("namespaceSelector", {}).get("matchNames", [])
        if names != [ns]:
            bad.append("namespaceSelector %r, not its own namespace %r" % (names, ns))
        want = spec.get("selector", {}).get("matchLabels", {})
        svcs = [o for o in main_objs if o.get("kind") == "Service"
                and o["metadata"].get("namespace") == ns and want
                and all(o["metadata"].get("labels", {}).get(k) == v for k, v in want.items())]
        if [s["metadata"]["name"] for s in svcs] != ["gateway"]:
            bad.append("selector %r picks %r, not the gateway Service" %
                       (want, [s["metadata"]["name"] for s in svcs]))
        ports = {p.get("name") for s in svcs for p in s["spec"].get("ports", [])}
        secrets_ok = {"manager-ca"}
        eps = spec.get("endpoints", [])
        if not eps:
            bad.append("no endpoints")
        for ep in eps:
            for k in set(ep) - ENDPOINT:
                bad.append("unknown endpoint field %s" % k)
            if ep.get("port") not in ports:
                bad.append("endpoint port %r is not a port of the gateway Service (%r)" %
                           (ep.get("port"), sorted(ports)))
            if ep.get("path") != "/metrics" or ep.get("scheme") != "https":
                bad.append("endpoint %r %r, want https /metrics" % (ep.get("scheme"), ep.get("path")))
            iv, to = seconds(ep.get("interval")), seconds(ep.get("scrapeTimeout"))
            if iv is None or to is None or to >= iv:
                bad.append("scrapeTimeout %r not below interval %r" %
                           (ep.get("scrapeTimeout"), ep.get("interval")))
            tls = ep.get("tlsConfig", {})
            for k in set(tls) - TLS:
                bad.append("unknown tlsConfig field %s" % k)
            if tls.get("insecureSkipVerify"):
                bad.append("insecureSkipVerify")
            ca = tls.get("ca", {}).get("secret", {})
            if ca.get("name") not in secrets_ok or ca.get("key") != "tls.crt":
                bad.append("tlsConfig.ca %r, want Secret manager-ca key tls.crt" % ca)
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
