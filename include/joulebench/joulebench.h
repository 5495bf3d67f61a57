// joulebench's umbrella header: includes every public topic header, nothing
// else (as benchmark/benchmark.h). Include a topic header directly to keep
// compile times down. tests/core/umbrella_test.cpp compiles this header alone
// and checks that it names every header in include/joulebench/.
#pragma once

#include "joulebench/error.h"         // Error, InputError, exit codes: the error policy
#include "joulebench/limits.h"        // the bounds of every quantity taken from a user or a file
#include "joulebench/energy.h"        // Component, Provenance, ComponentEnergy, Measurement
#include "joulebench/readable.h"      // numbers for people (units, significant digits)
#include "joulebench/statistics.h"    // mean, spread, Student's t intervals
#include "joulebench/sensor.h"        // Sensor interface, discover_sensors
#include "joulebench/power_model.h"   // power models where no counter can be read
#include "joulebench/meter.h"         // Meter: sampler, windows, laps, attribution, idle baseline
#include "joulebench/meter_output.h"  // sensors/measurement JSON and tables
#include "joulebench/tracker.h"       // Tracker (the entry point), run_command
#include "joulebench/carbon.h"        // grid intensity, PUE, gCO2e, equivalents
#include "joulebench/store.h"         // results store
#include "joulebench/codecarbon.h"    // CodeCarbon emissions.csv writer and importer
#include "joulebench/models.h"        // the model zoo (no libtorch in this header)
#include "joulebench/bench.h"         // the study's protocol: campaigns over tasks and models
#include "joulebench/stars.h"         // the star rule of bench tables and labels
#include "joulebench/report.h"        // reports over the store
#include "joulebench/report_html.h"   // the HTML report and the energy label
#include "joulebench/compare.h"       // two models, runs or configurations side by side
#include "joulebench/projection.h"    // deployment scale and lifecycle break-even
#include "joulebench/study.h"         // the study's published tables beside the store
#include "joulebench/exporter.h"      // the fleet exporter (Prometheus / OpenMetrics)
