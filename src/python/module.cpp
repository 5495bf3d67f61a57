// joulebench._native: the C++ Tracker for Python (pybind11). A deliberately
// small surface, JSON in and out, so that the Python package
// (joulebench/__init__.py) holds the Pythonic API and this stays stable:
// a tracker with its carbon settings, windows begun and ended by name, and
// each window's result as the `measure --json` object (docs/cli.md).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "joulebench/carbon.h"
#include "joulebench/error.h"
#include "joulebench/meter_output.h"
#include "joulebench/models.h"
#include "joulebench/store.h"
#include "joulebench/tracker.h"
#include "joulebench/version.h"

namespace py = pybind11;

namespace {

using joulebench::CarbonRequest;

// Options as the Python side gives them (None: not given, so the
// environment, joulebench.toml and the time zone decide, as for `measure`).
CarbonRequest carbon_request(const nlohmann::json& o) {
  CarbonRequest r;
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (!o.contains(key) || o[key].is_null()) return std::nullopt;
    if (!o[key].is_string()) throw joulebench::InputError(std::string(key) + ": expected a string");
    return o[key].get<std::string>();
  };
  r.country = text("country");
  r.cloud = text("cloud");
  r.pue = text("pue");
  if (o.contains("intensity") && !o["intensity"].is_null()) {
    if (!o["intensity"].is_number()) throw joulebench::InputError("intensity: expected g CO2e per kWh, a number");
    r.intensity_g_per_kwh = o["intensity"].get<double>();
  }
  return r;
}

class NativeTracker {
 public:
  explicit NativeTracker(const std::string& options_json) {
    const auto o = nlohmann::json::parse(options_json);
    try {
      settings_ = joulebench::resolve_carbon_settings(carbon_request(o));
    } catch (const joulebench::InputError& e) {
      // The resolution names the command-line flag; here it was a keyword.
      std::string what = e.what();
      for (const char* key : {"country", "cloud", "intensity", "pue"})
        if (what.rfind(std::string("--") + key, 0) == 0) what = std::string(key) + "=" + what.substr(2 + std::strlen(key));
      throw joulebench::InputError(what);
    }
    joulebench::TrackerOptions t;
    if (o.contains("interval_s") && !o["interval_s"].is_null()) t.interval_s = o["interval_s"].get<double>();
    if (o.contains("pid") && !o["pid"].is_null()) t.pid = o["pid"].get<int>();
    // store=: opened (created) before anything is measured, so a bad path is a ValueError now, not a lost run later.
    if (o.contains("store") && !o["store"].is_null()) {
      store_ = joulebench::open_store(o["store"].get<std::string>());
      run_info_.project = o.value("project", "");
      run_info_.task = o.value("task", "");
      if (!run_info_.task.empty() && !joulebench::task_from_string(run_info_.task))
        throw joulebench::InputError("task=" + run_info_.task + ": not a task; tasks: " + joulebench::task_names());
      run_info_.model = o.value("model", "");
      if (o.contains("inferences") && !o["inferences"].is_null()) {
        if (!o["inferences"].is_number_integer() || o["inferences"].get<std::int64_t>() <= 0)
          throw joulebench::InputError("inferences: expected a positive whole number");
        run_info_.inferences = o["inferences"].get<std::int64_t>();
      }
      run_info_.source = o.value("source", "python");
      run_info_.config_json = nlohmann::json{{"tags", o.value("tags", nlohmann::json::object())}}.dump();
    }
    tracker_ = std::make_unique<joulebench::Tracker>(t);
  }
  void begin(const std::string& name) { tracker_->begin_window(name); }
  // The window's `measure --json` object; with a store, the run it was saved
  // as ("run_id"), or why it was not ("store_error": the figures are still returned).
  std::string end(const std::string& name) {
    const joulebench::Measurement m = tracker_->end_window(name);
    nlohmann::json j = joulebench::window_result_json(m, *tracker_, settings_);
    j["window"] = name;
    if (store_) {
      j["run_id"] = nullptr;
      try {
        if (!m.any_additive()) throw joulebench::Error("no energy was measured (see the warnings); no run stored");
        std::optional<double> grams;
        if (j.contains("carbon") && j["carbon"].is_object()) grams = j["carbon"]["g_co2e"].get<double>();
        j["run_id"] = store_->save_run(joulebench::measured_run_record(m, settings_, grams, run_info_));
        j["store"] = store_->location();
      } catch (const std::exception& e) {
        j["store_error"] = e.what();
      }
    }
    return j.dump();
  }
  std::string sensors() const { return joulebench::sensors_json(tracker_->meter()).dump(); }
  std::string carbon_settings() const {
    return nlohmann::json{{"intensity_g_per_kwh", settings_.intensity.g_per_kwh},
                          {"intensity_source", settings_.intensity.source},
                          {"location_origin", settings_.location_origin},
                          {"pue", settings_.pue.value},
                          {"warnings", settings_.warnings}}
        .dump();
  }

 private:
  joulebench::CarbonSettings settings_;
  std::unique_ptr<joulebench::Store> store_;
  joulebench::MeasuredRunInfo run_info_;
  std::unique_ptr<joulebench::Tracker> tracker_;
};

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "joulebench's C++ tracker; use the joulebench package, not this module";
  m.attr("__version__") = JOULEBENCH_VERSION;
  // Bad input is ValueError (with the message that names it); other failures RuntimeError.
  // Translators are tried last registered first: the derived InputError after Error.
  py::register_exception<joulebench::Error>(m, "Error", PyExc_RuntimeError);
  py::register_exception<joulebench::InputError>(m, "InputError", PyExc_ValueError);
  py::class_<NativeTracker>(m, "NativeTracker")
      .def(py::init<const std::string&>(), py::arg("options_json"))
      // Window edges wait for the sampler thread: other Python threads run meanwhile.
      .def("begin", &NativeTracker::begin, py::call_guard<py::gil_scoped_release>())
      .def("end", &NativeTracker::end, py::call_guard<py::gil_scoped_release>())
      .def("sensors", &NativeTracker::sensors)
      .def("carbon_settings", &NativeTracker::carbon_settings);
}
