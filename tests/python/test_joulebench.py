#!/usr/bin/python3
"""The Python package (src/python, docs/python.md) with Debian's python3:
Tracker as a context manager and decorator, windows inside one tracker, the
`measure --json` contract, the CodeCarbon shim, and bad input as ValueError.
Run by CTest (label python) with PYTHONPATH=build/python and JOULEBENCH_BINARY."""
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

import joulebench


def busy(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1
    return x


class TrackerTest(unittest.TestCase):
    def test_a_with_block_gives_the_measure_json_contract(self):
        with joulebench.Tracker(project="unit", tags={"batch": "8"}, country="FRA") as t:
            busy(0.3)
        r = t.result
        self.assertEqual(r["project"], "unit")
        self.assertEqual(r["tags"], {"batch": "8"})
        # The same object as `joulebench measure --json`, less the command's fields.
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "m.json")
            subprocess.run([os.environ["JOULEBENCH_BINARY"], "measure", "-q", "--country", "FRA", "--json", out, "--",
                            "true"], check=True)
            with open(out) as f:
                cli = json.load(f)
        expected = set(cli) - {"command", "exit_code", "signal"}
        self.assertEqual(expected - set(r), set(), "fields of measure --json missing from the Python result")
        self.assertEqual(r["schema_version"], cli["schema_version"])
        self.assertGreater(r["duration_s"], 0.25)
        # Headline figures are the result's own, in joules and grams.
        self.assertEqual(t.energy_j, r["total_energy_j"])
        self.assertGreater(t.energy_j, 0)
        self.assertEqual(t.g_co2e, r["carbon"]["g_co2e"])
        self.assertAlmostEqual(t.g_co2e, r["total_energy_kwh"] * 56.0 * r["carbon"]["pue"], delta=t.g_co2e * 0.05)
        self.assertEqual(r["carbon"]["country_iso3"], "FRA")
        for component, provenance in t.provenance.items():
            self.assertRegex(provenance, r"^(measured|sampled|estimated):", component)

    def test_windows_inside_one_tracker(self):
        t = joulebench.Tracker(country="FRA")
        t.start("outer")
        busy(0.1)
        with t.window("inner") as inner:
            busy(0.2)
        busy(0.1)
        outer = t.stop("outer")
        self.assertEqual(inner.result["window"], "inner")
        self.assertEqual(outer["window"], "outer")
        self.assertLess(inner.result["duration_s"], outer["duration_s"])
        self.assertEqual([w["window"] for w in t.windows], ["inner", "outer"])
        with self.assertRaises(RuntimeError):
            t.stop()  # nothing open

    def test_a_decorated_function_is_measured_at_each_call(self):
        @joulebench.track(project="deco", country="FRA")
        def work(n):
            busy(0.05)
            return n * 2

        self.assertEqual(work(21), 42)
        self.assertEqual(work.tracker.result["window"], work.__qualname__)
        self.assertEqual(work.tracker.result["project"], "deco")
        work(1)
        self.assertEqual(len(work.tracker.windows), 2)

    def test_other_threads_run_while_a_window_ends(self):
        # The window edges release the GIL: a Python thread keeps counting.
        counter = [0]
        stop = threading.Event()

        def count():
            while not stop.is_set():
                counter[0] += 1

        th = threading.Thread(target=count)
        th.start()
        t = joulebench.Tracker(country="FRA")
        for _ in range(5):
            t.start()
            t.stop()
        stop.set()
        th.join()
        self.assertGreater(counter[0], 0)

    def test_bad_input_is_a_value_error_that_names_it(self):
        with self.assertRaises(ValueError) as e:
            joulebench.Tracker(country="XYZ")
        self.assertIn("XYZ", str(e.exception))
        with self.assertRaises(ValueError):
            joulebench.Tracker(intensity=-5)
        with self.assertRaises(ValueError):
            joulebench.Tracker(pue="0.2")

    def test_store_records_each_window_as_a_run_that_reports_read(self):
        with tempfile.TemporaryDirectory() as d:
            db = os.path.join(d, "runs.db")
            with joulebench.Tracker(project="py-store", tags={"batch": "8"}, country="FRA", store=db,
                                    task="text-classification", model="my-bert", inferences=100) as t:
                busy(0.3)
            self.assertIsNotNone(t.run_id)
            self.assertEqual(t.result["store"], db)
            runs = json.loads(subprocess.run([os.environ["JOULEBENCH_BINARY"], "report", "--runs", "--json",
                                              "--store", db], check=True, capture_output=True, text=True).stdout)
            self.assertEqual(len(runs), 1)
            run = runs[0]
            self.assertEqual(run["id"], t.run_id)
            self.assertEqual((run["kind"], run["project"], run["task"], run["model"]),
                             ("measure", "py-store", "text-classification", "my-bert"))
            self.assertAlmostEqual(run["energy_kwh"] * 3.6e6, t.energy_j, delta=t.energy_j * 1e-6)
            self.assertAlmostEqual(run["g_co2e"], t.g_co2e, delta=t.g_co2e * 1e-6)
            # Per 1,000 inferences in the model report: 100 inferences, so 10 x the window's energy.
            rows = json.loads(subprocess.run([os.environ["JOULEBENCH_BINARY"], "report", "--by", "model", "--json",
                                              "--store", db], check=True, capture_output=True, text=True).stdout)
            row = rows["rows"][0] if isinstance(rows, dict) else rows[0]
            self.assertEqual(row["model"], "my-bert")
            self.assertAlmostEqual(row["kwh_per_1000_mean"], t.result["total_energy_kwh"] * 10, delta=1e-12)

    def test_store_bad_input_is_a_value_error_before_anything_runs(self):
        with self.assertRaises(ValueError) as e:
            joulebench.Tracker(store="/nonexistent-folder/x.db")
        self.assertIn("/nonexistent-folder", str(e.exception))
        with self.assertRaises(ValueError) as e:
            joulebench.Tracker(task="text-classification")
        self.assertIn("store=", str(e.exception))
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(ValueError) as e:
                joulebench.Tracker(store=os.path.join(d, "a.db"), task="sentiment")
            self.assertIn("sentiment", str(e.exception))
            with self.assertRaises(ValueError):
                joulebench.Tracker(store=os.path.join(d, "a.db"), inferences=0)

    def test_sensors_list_every_source_with_why_not(self):
        s = joulebench.sensors()
        self.assertTrue(any(x["backend"] == "rapl-powercap" for x in s))
        for x in s:
            self.assertIn("available", x)
            if not x["available"]:
                self.assertTrue(x["reason"])


class CodeCarbonShimTest(unittest.TestCase):
    def test_start_stop_returns_kilograms(self):
        tracker = joulebench.EmissionsTracker(project_name="cc", country_iso_code="FRA", output_dir="/nonexistent",
                                              log_level="error", save_to_file=False)
        tracker.start()
        busy(0.2)
        kg = tracker.stop()
        self.assertIsInstance(kg, float)
        self.assertGreater(kg, 0)
        data = tracker.final_emissions_data
        self.assertEqual(tracker.final_emissions, kg)
        self.assertAlmostEqual(kg * 1000.0, data["joulebench"]["carbon"]["g_co2e"])
        self.assertEqual(data["project_name"], "cc")
        self.assertEqual(data["country_iso_code"], "FRA")

    def test_context_manager_offline_tracker_and_decorator(self):
        with joulebench.OfflineEmissionsTracker(country_iso_code="FRA") as t:
            busy(0.05)
        self.assertGreater(t.final_emissions, 0)

        @joulebench.track_emissions(country_iso_code="FRA", project_name="deco")
        def f():
            return "done"

        self.assertEqual(f(), "done")


if __name__ == "__main__":
    unittest.main(verbosity=2)
