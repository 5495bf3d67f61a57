// joulebench's umbrella header: includes the small topic headers, nothing
// else (as benchmark/benchmark.h). Include a topic header directly to keep
// compile times down; each concern adds its public header here.
#pragma once

#include "joulebench/error.h"   // Error, InputError: the error policy
#include "joulebench/energy.h"  // Component, Provenance, ComponentEnergy, Measurement
#include "joulebench/sensor.h"  // Sensor interface, discover_sensors
#include "joulebench/meter.h"   // Meter: sampler, windows, attribution, idle baseline
#include "joulebench/meter_output.h"  // sensors/measurement JSON and tables
#include "joulebench/tracker.h"       // Tracker (the entry point), run_command
#include "joulebench/carbon.h"        // grid intensity, PUE, gCO2e, equivalents
#include "joulebench/store.h"         // results store
#include "joulebench/codecarbon.h"    // CodeCarbon emissions.csv writer and importer
#include "joulebench/models.h"        // the model zoo (no libtorch in this header)
#include "joulebench/report.h"        // reports
