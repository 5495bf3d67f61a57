"""joulebench from Python: the energy and carbon of a block of code.

    import joulebench

    with joulebench.Tracker(project="my-model", tags={"batch": "8"}) as t:
        run_inference()
    print(t.energy_j, t.g_co2e)        # machine scope, joules and grams CO2e
    print(t.result["components"])      # the `joulebench measure --json` object

    @joulebench.track(project="my-model")
    def infer(x): ...

    # CodeCarbon users change one import:
    from joulebench import EmissionsTracker
    tracker = EmissionsTracker(project_name="my-model")
    tracker.start(); run_inference(); kg = tracker.stop()

The measuring is joulebench's C++ Tracker (joulebench._native): the same
sensors, order of trust, provenance and carbon settings as `joulebench
measure`. A figure that could not be measured is None, never 0. See
docs/python.md.
"""

import functools
import json
import os
import pathlib
import sys
import warnings

__all__ = ["Tracker", "track", "EmissionsTracker", "OfflineEmissionsTracker", "track_emissions", "sensors",
           "__version__"]


def _point_at_the_installed_tree():
    # The package sits in PREFIX/lib/python3.X/dist-packages/joulebench (or
    # build/python/joulebench): the plugins and data of that tree are beside
    # it, whichever python runs (the C++ side looks beside the executable).
    here = pathlib.Path(__file__).resolve().parent
    for prefix in (here.parents[3] if len(here.parents) > 3 else None, here.parents[1]):
        if prefix is None:
            continue
        net = prefix / "lib" / "joulebench" / "libjoulebench_net.so"
        if not net.exists():
            net = prefix / "libjoulebench_net.so"
        if net.exists():
            os.environ.setdefault("JOULEBENCH_NET_LIBRARY", str(net))
        data = prefix / "share" / "joulebench"
        if data.is_dir():
            os.environ.setdefault("JOULEBENCH_DATA_DIR", str(data))


_point_at_the_installed_tree()

from . import _native  # noqa: E402  (after the environment above)

__version__ = _native.__version__


class Tracker:
    """Measures the energy of what runs between start() and stop(), or in a
    `with` block, with joulebench's sensors; converts it to grams CO2e.

    project, tags: labels kept with the result (result["project"], ["tags"]).
    country (ISO 3166-1 alpha-3), cloud ("provider:region"), intensity
    (g CO2e/kWh), pue: where the electricity comes from; when not given, as
    `joulebench measure` decides (JOULEBENCH_COUNTRY, joulebench.toml, the
    time zone, else the world average with a warning).
    interval_s: sampling interval. pid: attribute to this process tree
    (default: this process).
    store: a results store (a SQLite file, or a postgresql:// URL) that gets
    each window as a run of kind `measure`, as `joulebench measure --store`
    does; task, model and inferences describe it (reports then give energy
    per 1,000 inferences). `t.run_id` is the stored run's id. A store that
    cannot be written is a RuntimeWarning and result["store_error"]: the
    figures are still returned.
    """

    def __init__(self, project="joulebench", tags=None, *, country=None, cloud=None, intensity=None, pue=None,
                 interval_s=0.1, pid=None, store=None, task=None, model=None, inferences=None):
        self.project = project
        self.tags = dict(tags or {})
        options = {"country": country, "cloud": cloud, "intensity": intensity,
                   "pue": None if pue is None else str(pue), "interval_s": interval_s,
                   "pid": os.getpid() if pid is None else pid}
        if store is not None:
            options.update({"store": os.fspath(store), "project": project, "tags": self.tags, "task": task,
                            "model": model, "inferences": inferences,
                            "source": "python: " + " ".join(sys.argv) if sys.argv and sys.argv[0] else "python"})
            options = {k: v for k, v in options.items() if v is not None}
        elif task is not None or model is not None or inferences is not None:
            raise ValueError("task, model and inferences describe a stored run: give store= too")
        self._native = _native.NativeTracker(json.dumps(options))
        self._open = []
        self.result = None
        self.windows = []

    # -- one run: start/stop, or `with` -------------------------------------
    def start(self, name="run"):
        """Begins the window `name` (windows may nest and overlap)."""
        self._native.begin(name)
        self._open.append(name)
        return self

    def stop(self, name=None):
        """Ends the window `name` (default: the last one begun) and returns its
        result: the `joulebench measure --json` object, with project and tags."""
        if name is None:
            if not self._open:
                raise RuntimeError("joulebench.Tracker.stop(): no window was started")
            name = self._open[-1]
        if name not in self._open:
            raise ValueError(f"joulebench.Tracker.stop(): no open window named {name!r} (open: {self._open})")
        self._open.remove(name)
        result = json.loads(self._native.end(name))
        result["project"] = self.project
        result["tags"] = self.tags
        if result.get("store_error"):
            warnings.warn(f"joulebench: window {name!r} not stored: {result['store_error']}", RuntimeWarning,
                          stacklevel=2)
        self.windows.append(result)
        self.result = result
        return result

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        while self._open:
            self.stop()
        return False

    def window(self, name):
        """A `with` block measured as its own window inside this tracker."""
        tracker = self

        class _Window:
            def __enter__(self):
                tracker.start(name)
                return self

            def __exit__(self, *exc):
                self.result = tracker.stop(name)
                return False

        return _Window()

    # -- the last result's headline figures ---------------------------------
    @property
    def energy_j(self):
        """Joules, machine scope (cpu + dram + gpu) of the last window; None before one ended."""
        return None if self.result is None else self.result.get("total_energy_j")

    @property
    def g_co2e(self):
        """Grams CO2e of the last window; None before one ended or when no energy was measured."""
        if self.result is None or self.result.get("carbon") is None:
            return None
        return self.result["carbon"]["g_co2e"]

    @property
    def provenance(self):
        """How the last window's energy was obtained, per component (measured:..., sampled:..., estimated:...)."""
        if self.result is None:
            return None
        return {c["component"]: c["provenance"] for c in self.result["components"]}

    @property
    def run_id(self):
        """The id of the run the last window was stored as (store=); None otherwise."""
        return None if self.result is None else self.result.get("run_id")

    @property
    def carbon_settings(self):
        return json.loads(self._native.carbon_settings())


def track(func=None, **tracker_options):
    """Decorator: each call of the function is measured; the tracker (with the
    last call's result) is the function's `.tracker` attribute."""

    def wrap(f):
        tracker = Tracker(**tracker_options)

        @functools.wraps(f)
        def measured(*args, **kwargs):
            with tracker.window(f.__qualname__):
                return f(*args, **kwargs)

        measured.tracker = tracker
        return measured

    return wrap(func) if func is not None else wrap


def sensors():
    """Every energy source looked for on this machine, usable or not and why (`joulebench sensors --json`)."""
    return json.loads(Tracker()._native.sensors())


class EmissionsTracker:
    """CodeCarbon's EmissionsTracker, measured by joulebench: start() and
    stop() -> kg CO2e, a context manager, `final_emissions` and
    `final_emissions_data`. Accepts CodeCarbon's keyword arguments;
    project_name, country_iso_code, pue and measure_power_secs are used, the
    others (output files, APIs, logging) are accepted and ignored.
    """

    def __init__(self, project_name="codecarbon", measure_power_secs=None, country_iso_code=None, pue=None,
                 **codecarbon_kwargs):
        interval = 0.1 if measure_power_secs is None else float(measure_power_secs)
        self._tracker = Tracker(project=project_name, country=country_iso_code, pue=pue, interval_s=interval)
        self._ignored = sorted(codecarbon_kwargs)
        self.final_emissions = None
        self.final_emissions_data = None

    def start(self):
        self._tracker.start("codecarbon")

    def stop(self):
        """kg CO2e of what ran since start(), as CodeCarbon returns it; None when no energy could be measured."""
        result = self._tracker.stop("codecarbon")
        carbon = result.get("carbon")
        self.final_emissions = None if carbon is None else carbon["g_co2e"] / 1000.0
        self.final_emissions_data = {
            "project_name": self._tracker.project,
            "duration": result["duration_s"],
            "emissions": self.final_emissions,
            "energy_consumed": result["total_energy_kwh"] if carbon is not None else None,
            "country_iso_code": None if carbon is None else carbon.get("country_iso3"),
            "joulebench": result,
        }
        return self.final_emissions

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class OfflineEmissionsTracker(EmissionsTracker):
    """CodeCarbon's offline tracker: the country is given (joulebench never goes online anyway)."""


def track_emissions(fn=None, **kwargs):
    """CodeCarbon's @track_emissions decorator, measured by joulebench."""

    def wrap(f):
        @functools.wraps(f)
        def measured(*args, **kw):
            tracker = EmissionsTracker(**kwargs)
            tracker.start()
            try:
                return f(*args, **kw)
            finally:
                tracker.stop()

        return measured

    return wrap(fn) if fn is not None else wrap
