#!/usr/bin/python3
"""deploy/kubernetes/*.yaml checked offline, without a cluster.

1. Every object is validated field by field against the Kubernetes API's own
   object models (Debian's python3-kubernetes, API 1.22): an unknown or
   misspelt field, a value of the wrong type, a missing required field or a
   value outside a field's enumeration is an error, as the API server would
   say. (kubectl cannot do this offline: even --dry-run=client asks a server
   for discovery and the OpenAPI schema, and Debian's kubectl 1.20 predates
   the Indexed Jobs the campaign needs.)
2. Every container command is a valid joulebench invocation: the argument
   vector (with $(VAR) expanded from the container's env, a `sh -c` script
   run with each JOB_COMPLETION_INDEX) is given to the built binary with
   JOULEBENCH_PARSE_ONLY=1, which parses and checks the options and runs
   nothing. A campaign shard is I/N with N = the Job's completions.
3. Every volume mounted is defined in the pod, every Secret or ConfigMap a
   volume names is defined in the example (secrets-example.yaml) in the same
   namespace, and every file a container reads from such a volume is a key
   of it.

Run by CTest (label deploy) with JOULEBENCH_BINARY and JOULEBENCH_SOURCE_DIR.
"""
import inspect
import os
import re
import stat
import subprocess
import tempfile
import unittest

import yaml
from kubernetes.client import models

SOURCE = os.environ.get("JOULEBENCH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("JOULEBENCH_BINARY", "")
MANIFESTS = os.path.join(SOURCE, "deploy", "kubernetes")

KINDS = {
    ("batch/v1", "Job"): "V1Job",
    ("apps/v1", "DaemonSet"): "V1DaemonSet",
    ("v1", "Secret"): "V1Secret",
    ("v1", "ConfigMap"): "V1ConfigMap",
}
# Enumerations the API server enforces (the Python models do not).
ENUMS = {
    ("V1PodSpec", "restart_policy"): {"Always", "OnFailure", "Never"},
    ("V1JobSpec", "completion_mode"): {"NonIndexed", "Indexed"},
    ("V1HostPathVolumeSource", "type"): {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                                         "CharDevice", "BlockDevice"},
    ("V1ContainerPort", "protocol"): {"TCP", "UDP", "SCTP"},
    ("V1TopologySpreadConstraint", "when_unsatisfiable"): {"DoNotSchedule", "ScheduleAnyway"},
    ("V1Toleration", "operator"): {"Exists", "Equal"},
    ("V1Container", "image_pull_policy"): {"Always", "IfNotPresent", "Never"},
}
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[numkMGTPE])?$")


def required_fields(model):
    """The attributes a model's setters refuse to leave unset."""
    return set(re.findall(r"Invalid value for `(\w+)`, must not be `None`", inspect.getsource(model)))


def validate(value, type_name, path, errors, owner=None):
    """Appends to errors what the API server would reject in value."""
    if type_name.startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {value!r}")
            return
        for i, v in enumerate(value):
            validate(v, type_name[5:-1], f"{path}[{i}]", errors)
    elif type_name.startswith("dict("):
        inner = type_name[5:-1].split(", ", 1)[1]
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {value!r}")
            return
        for k, v in value.items():
            if owner in (("V1ResourceRequirements", "limits"), ("V1ResourceRequirements", "requests")):
                if not (isinstance(v, (int, float)) and not isinstance(v, bool)) and not (
                        isinstance(v, str) and QUANTITY.match(v)):
                    errors.append(f"{path}.{k}: {v!r} is not a quantity")
            else:
                validate(v, inner, f"{path}.{k}", errors)
    elif type_name in ("str", "datetime"):
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {value!r}")
    elif type_name == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: expected an integer, got {value!r}")
    elif type_name == "bool":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected true or false, got {value!r}")
    elif type_name == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{path}: expected a number, got {value!r}")
    elif type_name == "object":  # IntOrString and free-form fields
        pass
    else:
        model = getattr(models, type_name)
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a {type_name} object, got {value!r}")
            return
        by_json = {j: a for a, j in model.attribute_map.items()}
        for key, v in value.items():
            if key not in by_json:
                errors.append(f"{path}: unknown field '{key}' in {type_name} (known: {', '.join(sorted(by_json))})")
                continue
            attr = by_json[key]
            allowed = ENUMS.get((type_name, attr))
            if allowed is not None and v not in allowed:
                errors.append(f"{path}.{key}: {v!r} is not one of {sorted(allowed)}")
            validate(v, model.openapi_types[attr], f"{path}.{key}", errors, owner=(type_name, attr))
        for attr in required_fields(model):
            if model.attribute_map[attr] not in value:
                errors.append(f"{path}: required field '{model.attribute_map[attr]}' of {type_name} is missing")


def load_manifests():
    """(file, object) for every document of every manifest."""
    out = []
    for name in sorted(os.listdir(MANIFESTS)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(MANIFESTS, name)) as f:
                out.extend((name, doc) for doc in yaml.safe_load_all(f) if doc is not None)
    return out


def pod_spec(obj):
    return obj.get("spec", {}).get("template", {}).get("spec") if obj.get("kind") in ("Job", "DaemonSet") else None


def container_env(container):
    """The container's environment as the kubelet would set it (fieldRefs get sample values)."""
    env = {}
    samples = {"status.podIP": "10.0.0.7", "spec.nodeName": "node-1", "metadata.name": "pod-1",
               "metadata.namespace": "default"}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif "fieldRef" in e.get("valueFrom", {}):
            env[e["name"]] = samples.get(e["valueFrom"]["fieldRef"]["fieldPath"], "x")
        else:
            env[e["name"]] = "x"
    return env


def expand(word, env):
    """Kubernetes' $(VAR) expansion in command and args; $$ escapes."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), word)


class Manifests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects = load_manifests()

    def test_every_object_is_valid_against_the_api_models(self):
        self.assertTrue(any(o.get("kind") == "Job" for _, o in self.objects))
        self.assertTrue(any(o.get("kind") == "DaemonSet" for _, o in self.objects))
        for name, obj in self.objects:
            key = (obj.get("apiVersion"), obj.get("kind"))
            with self.subTest(file=name, kind=key, name=obj.get("metadata", {}).get("name")):
                self.assertIn(key, KINDS, f"{name}: no model for {key}")
                errors = []
                validate(obj, KINDS[key], f"{name}:{key[1]}", errors)
                self.assertEqual(errors, [])

    def test_the_validator_rejects_what_the_api_server_would(self):
        # The checks above can fail: a misspelt field, a wrong type, a missing
        # required field and a bad enumeration value are each caught.
        job = next(o for _, o in self.objects if o.get("kind") == "Job")
        for mutate, expected in [
            (lambda j: j["spec"].update(completionsMode="Indexed"), "unknown field 'completionsMode'"),
            (lambda j: j["spec"].update(parallelism="8"), "expected an integer"),
            (lambda j: j["spec"]["template"]["spec"]["containers"][0].pop("name"), "required field 'name'"),
            (lambda j: j["spec"]["template"]["spec"].update(restartPolicy="Sometimes"), "is not one of"),
            (lambda j: j["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"].update(cpu="lots"),
             "is not a quantity"),
        ]:
            broken = yaml.safe_load(yaml.safe_dump(job))
            mutate(broken)
            errors = []
            validate(broken, "V1Job", "job", errors)
            self.assertTrue(any(expected in e for e in errors), f"{expected!r} not in {errors}")

    def test_workloads_follow_the_api_servers_rules(self):
        for name, obj in self.objects:
            spec = pod_spec(obj)
            if spec is None:
                continue
            with self.subTest(file=name):
                labels = obj["spec"]["template"]["metadata"]["labels"]
                if obj["kind"] == "DaemonSet":
                    for k, v in obj["spec"]["selector"]["matchLabels"].items():
                        self.assertEqual(labels.get(k), v, "the selector must match the pod template's labels")
                if obj["kind"] == "Job":
                    self.assertIn(spec["restartPolicy"], ("Never", "OnFailure"))
                    if obj["spec"].get("completionMode") == "Indexed":
                        self.assertIn("completions", obj["spec"])
                names = [c["name"] for c in spec["containers"]]
                self.assertEqual(len(names), len(set(names)), "container names must be unique")
                for c in spec["containers"]:
                    for p in c.get("ports", []):
                        self.assertLessEqual(len(p.get("name", "")), 15, "port names are at most 15 characters")

    def test_every_volume_secret_and_file_is_defined(self):
        defined = {(o["kind"], o["metadata"].get("namespace", "default"), o["metadata"]["name"]): o
                   for _, o in self.objects if o.get("kind") in ("Secret", "ConfigMap")}
        for name, obj in self.objects:
            spec = pod_spec(obj)
            if spec is None:
                continue
            namespace = obj["metadata"].get("namespace", "default")
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            for c in spec["containers"]:
                env = container_env(c)
                words = [expand(w, env) for w in c.get("command", []) + c.get("args", [])] + list(env.values())
                for m in c.get("volumeMounts", []):
                    with self.subTest(file=name, container=c["name"], mount=m["name"]):
                        self.assertIn(m["name"], volumes, f"volume '{m['name']}' is mounted but not defined")
                        volume = volumes[m["name"]]
                        source = None
                        if "secret" in volume:
                            source = ("Secret", volume["secret"]["secretName"])
                        elif "configMap" in volume:
                            source = ("ConfigMap", volume["configMap"]["name"])
                        if source is None:
                            continue
                        obj_key = (source[0], namespace, source[1])
                        self.assertIn(obj_key, defined, f"{source[0]} {source[1]} in namespace {namespace} is not "
                                                        "defined in deploy/kubernetes/")
                        data = defined[obj_key]
                        keys = set(data.get("data", {})) | set(data.get("stringData", {}))
                        # Files the container names under this mount must be keys of it.
                        prefix = m["mountPath"].rstrip("/") + "/"
                        for w in words:
                            for path in re.findall(re.escape(prefix) + r"([A-Za-z0-9._-]+)", w):
                                self.assertIn(path, keys, f"{prefix}{path} is read but {source[1]} has no key "
                                                          f"'{path}' (keys: {sorted(keys)})")

    def test_container_commands_are_valid_joulebench_invocations(self):
        self.assertTrue(BINARY and os.access(BINARY, os.X_OK), "JOULEBENCH_BINARY is not set to the built binary")
        checked = 0
        with tempfile.TemporaryDirectory() as shim_dir:
            log = os.path.join(shim_dir, "argv.log")
            shim = os.path.join(shim_dir, "joulebench")
            with open(shim, "w") as f:
                # Records the argument vector, then lets the real parser judge it.
                f.write('#!/bin/sh\nprintf "%s\\0" "$@" > "$JB_ARGV_LOG"\n'
                        f'JOULEBENCH_PARSE_ONLY=1 exec "{BINARY}" "$@"\n')
            os.chmod(shim, stat.S_IRWXU)
            for name, obj in self.objects:
                spec = pod_spec(obj)
                if spec is None:
                    continue
                indexed = obj["kind"] == "Job" and obj["spec"].get("completionMode") == "Indexed"
                indices = range(obj["spec"]["completions"]) if indexed else [None]
                for c in spec["containers"]:
                    argv = c.get("command", []) + c.get("args", [])
                    self.assertTrue(argv, f"{name}: container {c['name']} relies on the image's entrypoint")
                    for index in indices:
                        env = container_env(c)
                        if index is not None:
                            env["JOB_COMPLETION_INDEX"] = str(index)
                        words = [expand(w, env) for w in argv]
                        run_env = dict(env, PATH=f"{shim_dir}:/usr/bin:/bin", JB_ARGV_LOG=log)
                        with self.subTest(file=name, container=c["name"], index=index):
                            if os.path.exists(log):
                                os.remove(log)
                            r = subprocess.run(words, env=run_env, capture_output=True, text=True, timeout=30)
                            self.assertEqual(r.returncode, 0, f"{words}: {r.stdout}{r.stderr}")
                            self.assertIn("arguments accepted", r.stdout, f"{words} never reached joulebench")
                            with open(log) as f:
                                seen = f.read().split("\0")[:-1]
                            if indexed and seen[0] == "bench":
                                shard = seen[seen.index("--shard") + 1]
                                self.assertEqual(shard, f"{index + 1}/{obj['spec']['completions']}",
                                                 "shard I/N: I = index + 1, N = completions")
                            checked += 1
        self.assertGreaterEqual(checked, 2)

    def test_a_bad_invocation_is_refused_by_the_parser(self):
        # The check above can fail: the parser refuses a misspelt option, and
        # a shard outside 1..N.
        env = dict(os.environ, JOULEBENCH_PARSE_ONLY="1")
        for argv in (["exporter", "--listne=0.0.0.0:9464"], ["bench", "--shard", "9/8"]):
            r = subprocess.run([BINARY] + argv, env=env, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, f"{argv}: {r.stdout}{r.stderr}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
