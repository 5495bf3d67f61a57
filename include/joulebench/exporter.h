// The fleet exporter: a long-running agent that samples this machine's
// sensors and serves OpenMetrics / Prometheus text on /metrics.
//
//   joulebench::ExporterOptions options;     // 127.0.0.1:9464 by default
//   joulebench::Exporter exporter(joulebench::discover_sensors(), options);
//   exporter.start();                         // collector + HTTP threads
//   ...
//   exporter.stop();
//
// Every counter is monotonic for the life of the process: counter wraps are
// undone by the sensors, and a sensor that fails (GPU reset, driver reload)
// is marked down (joulebench_sensor_up 0) while its counters keep their value;
// when it comes back its counter is re-based, never subtracted. Metric names,
// labels and their Kepler / Scaphandre equivalents: docs/exporter.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/carbon.h"
#include "joulebench/energy.h"
#include "joulebench/sensor.h"

namespace joulebench {

// ---- What the collector knows at one instant -------------------------------------

struct ExportedSensor {
  std::string name;     // SensorInfo::name
  std::string backend;  // SensorInfo::backend
  Component component = Component::other;
  bool up = false;        // last read succeeded
  double energy_j = 0.0;  // monotonic since the exporter started
  std::optional<double> power_w;  // over the last sampling interval
  // Why it was never usable ("stuck: its counter did not advance ...", a
  // permission): served as the `reason` label of sensor_up 0. Empty for a
  // sensor that was usable at start (its read errors go to the log, not to
  // labels).
  std::string reason;
};

struct ExportedComponent {
  Component component = Component::other;
  std::string provenance;  // "measured:rapl-powercap" of the source last used
  double energy_j = 0.0;   // monotonic; never sums overlapping zones
  std::optional<double> power_w;
  // Ends of the band of energy_j: each interval's energy ÷ and × the band
  // factor of the sensors used then (equal to energy_j for readings).
  double energy_low_j = 0.0, energy_high_j = 0.0;
};

// Energy attributed to one process or one cgroup (CPU-time share of the
// cpu + dram energy; see docs/exporter.md).
struct ExportedShare {
  std::string id;    // pid, or cgroup path
  std::string name;  // comm, or the container id found in the cgroup path ("" if none)
  double energy_j = 0.0;
};

struct ExporterSnapshot {
  std::vector<ExportedComponent> components;
  std::vector<ExportedSensor> sensors;
  // At most top_k entries each; energy of everything else goes to *_other_j.
  std::vector<ExportedShare> processes;
  double processes_other_j = 0.0;
  std::vector<ExportedShare> containers;
  double containers_other_j = 0.0;
  bool attribution_ok = false;  // /proc readable at the last sample
  // Carbon.
  double intensity_g_per_kwh = 0.0;
  std::string intensity_zone;
  double pue = 1.0;
  double emissions_g = 0.0;  // of the additive components, with PUE
  double emissions_low_g = 0.0, emissions_high_g = 0.0;  // at the ends of the energy band
  // The exporter's own cost.
  double self_cpu_s = 0.0;
  double self_energy_j = 0.0;  // its CPU-time share of cpu + dram energy
  std::uint64_t self_rss_bytes = 0;
  std::uint64_t samples = 0;
  std::uint64_t scrapes = 0;
  double interval_s = 0.0;
};

struct CollectorOptions {
  // Sampling interval (shortened to the sensors' max_read_interval_s).
  double interval_s = 1.0;
  // Where /proc is for attribution (tests point it at a fake tree).
  std::string procfs_root = "/proc";
  // Series per process and per container; the rest is summed as "other".
  std::size_t top_k = 10;
  CarbonSettings carbon;
};

// Samples sensors and keeps the counters. Thread-safe: sample() from one
// thread, snapshot() from any.
class EnergyCollector {
 public:
  EnergyCollector(SensorList sensors, CollectorOptions options);
  ~EnergyCollector();
  EnergyCollector(const EnergyCollector&) = delete;
  EnergyCollector& operator=(const EnergyCollector&) = delete;

  void sample();
  ExporterSnapshot snapshot() const;
  void count_scrape();
  double interval_s() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- Exposition -----------------------------------------------------------------

enum class MetricsFormat {
  prometheus_text,  // text/plain; version=0.0.4
  openmetrics,      // application/openmetrics-text; version=1.0.0 (ends with # EOF)
};

// OpenMetrics when the Accept header names application/openmetrics-text
// (as Prometheus does), the 0.0.4 text format otherwise.
MetricsFormat negotiate_metrics_format(std::string_view accept_header);
std::string_view metrics_content_type(MetricsFormat format);
std::string render_metrics(const ExporterSnapshot& snapshot, MetricsFormat format);

// ---- The agent ------------------------------------------------------------------

struct ExporterOptions {
  std::string host = "127.0.0.1";
  int port = 9464;  // 0: any free port (see Exporter::port())
  // Bearer token clients must send (Authorization: Bearer ...); empty: none.
  // Never printed or logged.
  std::string token;
  // TLS when both are set (PEM files).
  std::string tls_cert_file;
  std::string tls_key_file;
  CollectorOptions collector;
};

// Reads a bearer token file: its first line, without trailing whitespace.
// Throws InputError when unreadable or empty (the message never holds the token).
std::string read_token_file(const std::string& path);

// "HOST:PORT", "[IPv6]:PORT" or ":PORT" (loopback). Throws InputError.
void parse_listen_address(std::string_view text, std::string& host, int& port);

class Exporter {
 public:
  // Binds the socket (throws Error naming the address when it cannot).
  Exporter(SensorList sensors, ExporterOptions options);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  int port() const;  // the bound port
  bool tls() const;
  // Starts the collector and the HTTP server threads (idempotent).
  void start();
  // Stops both and joins them (idempotent).
  void stop();
  EnergyCollector& collector();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joulebench
