// joulebench exporter [--listen HOST:PORT] [--token-file F] [--tls-cert C --tls-key K]:
// the fleet agent serving /metrics until SIGINT/SIGTERM. Contract: docs/exporter.md.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <csignal>
#include <memory>

#include "carbon_options.h"
#include "commands.h"
#include "joulebench/exporter.h"
#include "option_checks.h"
#include "sensor_options.h"

namespace joulebench::cli {

void register_exporter_command(CommandRegistry& registry) {
  struct Args {
    std::string listen = "127.0.0.1:9464";
    std::string token_file;
    std::string tls_cert;
    std::string tls_key;
    double interval_s = 1.0;
    std::size_t top_k = 10;
    SensorOptions sensors;
    CarbonRequest carbon;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "exporter", "serve energy, power and carbon metrics for Prometheus on /metrics (loopback unless told otherwise)");
  if (!registry.wanted(sub)) return;
  sub->add_option("--listen", args->listen, "HOST:PORT to listen on; other than loopback only when given")
      ->capture_default_str();
  sub->add_option("--token-file", args->token_file, "require 'Authorization: Bearer <first line of FILE>'");
  sub->add_option("--tls-cert", args->tls_cert, "PEM certificate: serve HTTPS (with --tls-key)");
  sub->add_option("--tls-key", args->tls_key, "PEM private key for --tls-cert");
  sub->add_option("--interval", args->interval_s, "sensor sampling interval in seconds")
      ->check(within(kIntervalSecondsLimits))
      ->capture_default_str();
  sub->add_option("--top", args->top_k, "series per process and per cgroup; the rest is summed as \"other\"")
      ->check(within({"series per process and per cgroup", 1, 100000, "", true, ""}))
      ->capture_default_str();
  add_sensor_options(*sub, args->sensors);
  add_carbon_options(*sub, args->carbon);
  registry.add(sub, [args] {
    ExporterOptions options;
    parse_listen_address(args->listen, options.host, options.port);
    if (!args->token_file.empty()) options.token = read_token_file(args->token_file);
    options.tls_cert_file = args->tls_cert;
    options.tls_key_file = args->tls_key;
    options.collector.interval_s = args->interval_s;
    options.collector.top_k = args->top_k;
    options.collector.procfs_root = args->sensors.paths.procfs_root;
    options.collector.carbon = resolve_carbon_settings(args->carbon);
    print_carbon_warnings(options.collector.carbon);

    // Signals are taken by sigwait in this thread: blocked before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Exporter exporter(discover_sensors(args->sensors), options);
    exporter.start();
    fmt::print(stderr, "joulebench: exporter serving {}://{}:{}/metrics{} (sampling every {} s)\n",
               exporter.tls() ? "https" : "http", options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host,
               exporter.port(), options.token.empty() ? "" : " (bearer token required)",
               exporter.collector().interval_s());
    int signal = 0;
    sigwait(&signals, &signal);
    exporter.stop();
    return 0;
  });
}

}  // namespace joulebench::cli
