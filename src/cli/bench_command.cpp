// joulebench bench: the study's protocol on the zoo. Parses options, plans
// the cells with the bench library (plan_campaign) and hands them to
// run_campaign; progress on stderr, the table (or --json array) on stdout.
// Contract: docs/bench.md.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "carbon_options.h"
#include "commands.h"
#include "core/output_file.h"
#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "joulebench/models.h"
#include "joulebench/report_html.h"
#include "joulebench/version.h"
#include "json_text.h"
#include "report_facts.h"
#include "option_checks.h"
#include "sensor_options.h"
#include "core/paths.h"

namespace joulebench::cli {
namespace {

// Ctrl-C, and SIGTERM from a scheduler (scancel, preemption, a pod's
// deletion): the cell in progress is discarded and the exit status is
// 128 + the signal, as a shell reports it.
std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) {
  g_stop_signal.store(sig);
  g_stop.store(true);
  std::signal(sig, SIG_DFL);  // a second one ends the process at once
}

struct Args {
  std::vector<std::string> tasks, models;
  std::optional<int> n, reps, warmup;
  std::vector<int> batches;
  int threads = 0;
  std::string dtype = "fp32", device = "cpu";
  std::string data, text_column = "text";
  std::string model_config, image_size;  // TorchScript files
  std::optional<int> input_length;
  bool json = false, quiet = false, no_report = false;
  std::string html;
  std::string store, shard, protocol;
  std::string spool;  // --spool: where runs go while a database store is unreachable
  std::optional<double> idle_baseline_s, cooldown_s;
  std::optional<int> steps;
  double interval_ms = 100.0;
  EndpointOptions endpoint;
  std::optional<int> server_pid;
  SensorOptions sensors;
  CarbonRequest carbon;
};

std::string duration_text(double s) {
  const auto t = static_cast<long>(s + 0.5);
  return t >= 60 ? fmt::format("{}m{:02d}s", t / 60, t % 60) : fmt::format("{}s", t);
}

// What was typed, recorded with each run (the store's source column).
std::string own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text)
    if (c == '\0') c = ' ';
  return text;
}

// --spool, else JOULEBENCH_SPOOL, else one file per shard in the current folder
// (so that shards sharing a folder never share a spool).
std::string spool_path(const Args& args) {
  if (!args.spool.empty()) return args.spool;
  if (const char* env = std::getenv("JOULEBENCH_SPOOL"); env && *env) return env;
  if (args.shard.empty()) return kDefaultSpoolPath;
  std::string shard = args.shard;
  if (const auto slash = shard.find('/'); slash != std::string::npos) shard.replace(slash, 1, "-of-");
  return "joulebench-spool-shard-" + shard + ".db";
}

// The end of a campaign on a database store: the spooled runs get a last,
// bounded chance (3 tries over ~3 s); those still unsent are named with the
// command that pushes them. Returns how many are unsent.
std::size_t finish_spool(SpooledStore& spooled, const Args& args) {
  const std::size_t left = spooled.flush(3, 1.0);
  const std::string path = spooled.spool_path().string();
  const std::string url = display_store_location(args.store);
  if (left == 0) {
    if (spooled.flushed_count() > 0 && !args.quiet)
      fmt::print(stderr, "joulebench: {} run(s) kept in {} while the database was unreachable are now in {}\n",
                 spooled.flushed_count(), path, url);
    return 0;
  }
  fmt::print(stderr,
             "joulebench: {} run(s) could not be written to {} ({}); they are kept in {}. When the database is "
             "back, push them with:\n  joulebench merge {} -o '{}'{}\n(or run this bench command again: it skips "
             "their cells and pushes them first)\n",
             left, url, spooled.last_error(), path, path, url,
             url != args.store ? "\n(the password is left out: give it in PGPASSWORD or ~/.pgpass, which libpq reads)"
                               : "");
  return left;
}

// What a command asks for, resolved before anything is measured or stored.
struct Campaign {
  BenchProtocol protocol = BenchProtocol::quick;
  BenchSettings settings;
  double idle_s = 5.0;
  bool default_run = false;
  std::vector<ModelInfo> zoo;  // empty for a live endpoint
  BenchPlan plan;
};

Campaign plan(Args& args) {
  Campaign c;
  c.default_run = args.tasks.empty() && args.models.empty() && args.endpoint.url.empty();
  c.protocol = bench_protocol(args.protocol, c.default_run);
  BenchPreset preset = bench_preset(c.protocol);
  c.settings = std::move(preset.settings);
  c.idle_s = args.idle_baseline_s.value_or(preset.idle_baseline_s);
  if (args.n) c.settings.n = *args.n;
  if (args.reps) c.settings.reps = *args.reps;
  if (args.warmup) c.settings.warmup = *args.warmup;
  if (args.cooldown_s) c.settings.cooldown_s = *args.cooldown_s;
  c.settings.threads = args.threads;
  c.settings.dtype = args.dtype;
  c.settings.device = args.device;
  c.settings.source = own_command_line();
  if (args.steps) c.settings.load.steps = *args.steps;
  if (!args.html.empty()) check_output_file(args.html, "--html");

  const bool live = !args.endpoint.url.empty();
  if (live) make_endpoint_model(args.endpoint, Task::text_generation);  // checks the URL before anything runs
  c.zoo = live ? std::vector<ModelInfo>{} : list_models();
  BenchRequest request;
  request.tasks = args.tasks;
  request.models = args.models;
  if (!args.batches.empty()) request.batches = args.batches;
  request.endpoint_url = args.endpoint.url;
  request.data = args.data;
  request.text_column = args.text_column;
  request.model_config = args.model_config;
  request.input_length = args.input_length;
  request.image_size = args.image_size;
  c.plan = plan_campaign(request, c.protocol, c.zoo, core::data_dir());
  args.endpoint.model = c.plan.endpoint_model;
  check_campaign(c.plan.cells, c.settings);  // before anything is loaded or a store is created
  if (!args.shard.empty()) {
    int i = 0, n = 0;
    std::sscanf(args.shard.c_str(), "%d/%d", &i, &n);  // checked by the option's validator
    c.plan.cells = select_shard(c.plan.cells, i, n);
  }
  return c;
}

// TorchScript files are loaded (and forward() run once) before anything is
// measured: a file or description that does not fit is bad input, exit 2.
// The first cell of each then uses the model loaded here.
struct Preloaded {
  std::map<std::pair<Task, std::string>, std::unique_ptr<Model>> models;
  std::map<std::string, std::int64_t> parameters;  // for the report's parameter axis
};

Preloaded preload_torchscript(const Campaign& c) {
  Preloaded out;
  for (const auto& cell : c.plan.cells)
    if (auto it = c.plan.torchscript.find(cell.model);
        it != c.plan.torchscript.end() && !out.models.count({cell.task, cell.model})) {
      auto& model = out.models[{cell.task, cell.model}] = load_torchscript(it->second, cell_load_options(cell, c.settings));
      out.parameters[cell.model] = model->info().parameters;
    }
  return out;
}

// A database store gets a local spool: a run it cannot take is kept, never lost.
std::unique_ptr<Store> open_campaign_store(const Args& args, bool tty, SpooledStore*& spooled) {
  std::unique_ptr<Store> store = open_store(args.store);
  spooled = nullptr;
  if (!is_store_url(args.store)) return store;
  SpoolOptions spool;
  spool.path = spool_path(args);
  spool.notify = [&args, tty](const std::string& message) {
    if (!args.quiet) fmt::print(stderr, "{}joulebench: {}\n", tty ? "\r\033[K" : "", message);
  };
  auto s = open_spooled_store(std::move(store), spool);
  spooled = s.get();
  if (const auto waiting = spooled->pending(); waiting > 0 && !args.quiet)
    fmt::print(stderr, "joulebench: {} run(s) of an earlier campaign wait in {}: their cells count as done, and "
               "they go to the database first\n", waiting, spooled->spool_path().string());
  return s;
}

void print_plan(const Campaign& c) {
  if (c.protocol == BenchProtocol::quick)
    fmt::print(stderr,
               "joulebench: {} protocol: {} cells, N = {} inferences x {} repetitions each (reduced: the study "
               "uses 1,000 x 10; --protocol study runs it)\n",
               c.default_run ? "default run, quick" : "quick", c.plan.cells.size(), c.settings.n, c.settings.reps);
  else
    fmt::print(stderr, "joulebench: {} protocol: {} cells, N = {} inferences x {} repetitions each\n",
               to_string(c.protocol), c.plan.cells.size(), c.settings.n, c.settings.reps);
}

ModelLoader model_loader(Args& args, const Campaign& c, Preloaded& preloaded) {
  if (!args.endpoint.url.empty())
    return [&args](const std::string&, const LoadOptions& o) {
      return make_endpoint_model(args.endpoint, o.task.value_or(Task::text_generation));
    };
  return [&c, &preloaded](const std::string& name, const LoadOptions& o) -> std::unique_ptr<Model> {
    auto spec = c.plan.torchscript.find(name);
    if (spec == c.plan.torchscript.end()) return load_model(name, o);
    if (auto it = preloaded.models.find({o.task.value_or(Task::text_classification), name});
        it != preloaded.models.end() && it->second)
      return std::move(it->second);
    return load_torchscript(spec->second, o);
  };
}

// The zoo runs the models: record what runs them (the BLAS kernel can change energy 5x).
void record_zoo_runtime(BenchContext& ctx, bool quiet) {
  try {
    const RuntimeInfo rt = zoo_runtime_info();
    ctx.software = {{"libtorch", rt.torch_version},
                    {"blas", rt.blas_library},
                    {"blas_core", rt.blas_core},
                    {"blas_core_chosen_by", rt.blas_core_chosen_by}};
    if (!quiet && !rt.blas_core.empty())
      fmt::print(stderr, "joulebench: libtorch {}, OpenBLAS kernel {} ({})\n", rt.torch_version, rt.blas_core,
                 rt.blas_core_chosen_by);
  } catch (const Error&) {
    // No zoo plugin: each cell's model load says so (and fails that cell only).
  }
}

// Progress on stderr: one line rewritten in place on a terminal, a line per
// change otherwise; a failed cell's error as it happens.
BenchCallbacks progress_callbacks(bool tty, std::shared_ptr<std::string> last_line) {
  BenchCallbacks cb;
  cb.progress = [tty, last_line](const BenchProgress& p) {
    std::string where = p.cell ? fmt::format("{} {}{}", to_string(p.cell->task), p.cell->model,
                                             p.cell->batch > 1 ? fmt::format(" (batch {})", p.cell->batch) : "")
                               : "idle baseline";
    // A bar over the repetitions of the campaign.
    const double total = static_cast<double>(std::max<std::size_t>(1, p.cell_count * p.reps));
    const double done = static_cast<double>(p.cell_index * p.reps + std::max(0, p.repetition - 1));
    const int filled = static_cast<int>(20.0 * done / total);
    const std::string bar = std::string(filled, '#') + std::string(20 - filled, '.');
    std::string line = fmt::format("[{}] {}/{} {}: {}{}  elapsed {}{}", bar, p.cell_index + 1, p.cell_count, where,
                                   p.phase, p.phase == "measure" ? fmt::format(" rep {}/{}", p.repetition, p.reps) : "",
                                   duration_text(p.elapsed_s), p.eta_s ? "  ETA " + duration_text(*p.eta_s) : "");
    if (tty) fmt::print(stderr, "\r\033[K{}", line);
    else if (p.phase != "cooldown" && line != *last_line) fmt::print(stderr, "{}\n", line);
    *last_line = std::move(line);
  };
  cb.run_done = [tty](const BenchRun& r) {
    if (r.status != RunStatus::complete)
      fmt::print(stderr, "{}joulebench: {} {} failed: {}\n", tty ? "\r\033[K" : "", to_string(r.cell.task),
                 r.cell.model, r.error);
  };
  return cb;
}

// Runs the campaign with Ctrl-C and SIGTERM caught; on an error the spool
// still says what it keeps and how to push it.
CampaignResult run_with_signals(const std::vector<BenchCell>& cells, const BenchSettings& settings,
                                BenchContext& ctx, const BenchCallbacks& cb, SpooledStore* spooled,
                                const Args& args) {
  g_stop = false;
  g_stop_signal = 0;
  auto previous_int = std::signal(SIGINT, on_stop_signal);
  auto previous_term = std::signal(SIGTERM, on_stop_signal);
  const auto restore_signals = [&] {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
  };
  try {
    CampaignResult result = run_campaign(cells, settings, ctx, cb);
    restore_signals();
    return result;
  } catch (...) {
    restore_signals();
    if (spooled) {
      try {
        finish_spool(*spooled, args);
      } catch (const std::exception&) {
      }
    }
    throw;
  }
}

// The HTML report of the whole store, when this campaign added to it. A
// report that cannot be written is a warning: the measurements are stored.
void write_html_report(const Args& args, const Campaign& c, const Preloaded& preloaded, Store& store) {
  std::filesystem::path html = args.html;
  if (html.empty())  // beside a SQLite file; in the current folder for a database URL
    html = args.store.find("://") != std::string::npos
               ? std::filesystem::path("joulebench-report.html")
               : std::filesystem::path(std::filesystem::path(args.store).replace_extension().string() + "-report.html");
  try {
    HtmlReportOptions h = cli::report_facts(c.zoo);
    h.title = "joulebench bench";
    for (const auto& [name, parameters] : preloaded.parameters) h.facts[name] = {parameters, false};
    write_output_file(html.string(), render_html_report(store, h));
    if (!args.quiet) fmt::print(stderr, "joulebench: report: {}\n", std::filesystem::absolute(html).string());
  } catch (const std::exception& e) {
    fmt::print(stderr, "joulebench: warning: no HTML report at {}: {}\n", html.string(), e.what());
  }
}

void print_results(const Args& args, const CampaignResult& result, const Tracker& tracker, const Store& store) {
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : result.runs) out.push_back(bench_run_json(r));
    fmt::print("{}", json_text(out));
  }
  if (args.quiet) return;
  std::FILE* where = args.json ? stderr : stdout;
  if (!result.runs.empty())
    fmt::print(where, "\n{}\n", render_bench_summary(result, tracker.meter().resolution()));
  if (!result.skipped.empty())
    fmt::print(stderr, "joulebench: {} cells already complete in {} were skipped (resume)\n", result.skipped.size(),
               store.location());
  fmt::print(stderr, "joulebench: results in {}; see them with `joulebench report --store {}`\n", store.location(),
             store.location());
}

// The exit status: 128 + the signal when interrupted, partial when a cell
// failed or runs wait in the spool.
int exit_code(const CampaignResult& result, std::size_t cells, std::size_t unsent, const Store& store) {
  if (result.interrupted) {
    const int sig = g_stop_signal.load();
    fmt::print(stderr,
               "joulebench: interrupted ({}): {} completed repetitions kept in {}; the unfinished cell ({} {}) was "
               "discarded. Run the same command again to resume: completed cells are skipped.\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", result.runs.size() - result.failed_cells, store.location(),
               to_string(result.interrupted_cell->task), result.interrupted_cell->model);
    return exit_status_for_signal(sig != 0 ? sig : SIGINT);
  }
  if (result.failed_cells > 0) {
    fmt::print(stderr, "joulebench: {} of {} cells failed (recorded as failed runs); the others completed\n",
               result.failed_cells, cells - result.skipped.size());
    return exit_status(ExitCode::partial);
  }
  return exit_status(unsent > 0 ? ExitCode::partial : ExitCode::ok);
}

int run(Args& args) {
  const Campaign c = plan(args);
  Preloaded preloaded = preload_torchscript(c);
  const CarbonSettings carbon = resolve_carbon_settings(args.carbon);
  const bool tty = ::isatty(STDERR_FILENO);
  SpooledStore* spooled = nullptr;
  std::unique_ptr<Store> store = open_campaign_store(args, tty, spooled);
  if (!args.quiet) {
    print_carbon_warnings(carbon);
    print_plan(c);
  }

  TrackerOptions topts;
  topts.interval_s = args.interval_ms / 1000.0;
  topts.sensors = args.sensors;
  // Attributed scope: this process (the zoo's models run in it), or the
  // server's process tree for a live endpoint when its PID is given.
  const bool live = !args.endpoint.url.empty();
  topts.pid = live ? args.server_pid : std::optional<int>(static_cast<int>(::getpid()));
  Tracker tracker(topts);
  BenchContext ctx{tracker, *store, carbon, model_loader(args, c, preloaded),
                   detect_machine(args.sensors.paths.procfs_root), c.idle_s, {}};
  if (!live) record_zoo_runtime(ctx, args.quiet);
  BenchCallbacks cb = args.quiet ? BenchCallbacks{} : progress_callbacks(tty, std::make_shared<std::string>());
  cb.stop = &g_stop;

  const CampaignResult result = run_with_signals(c.plan.cells, c.settings, ctx, cb, spooled, args);
  if (!args.quiet && tty) fmt::print(stderr, "\r\033[K");
  const std::size_t unsent = spooled ? finish_spool(*spooled, args) : 0;
  print_results(args, result, tracker, *store);
  // With runs still in the spool the database would give a partial report.
  if (!args.no_report && unsent == 0 && std::any_of(result.runs.begin(), result.runs.end(), [](const BenchRun& r) {
        return r.status == RunStatus::complete;
      }))
    write_html_report(args, c, preloaded, *store);
  return exit_code(result, c.plan.cells.size(), unsent, *store);
}

// --batch 1,8,32, split here rather than by CLI11, which drops the empty
// item of "1,,2".
void add_batch_sizes(const std::string& list, std::vector<int>& batches) {
  constexpr Limits kBatch{"batch size", 1, 1e6, "", true, ""};
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, end - start);
    const auto v = parse_number(item);
    if (!v)
      throw CLI::ValidationError("--batch",
                                 fmt::format("'{}' is not a number; give a list of batch sizes such as 1,8,32", item));
    if (auto bad = limits_violation(*v, kBatch); !bad.empty()) throw CLI::ValidationError("--batch", bad);
    batches.push_back(static_cast<int>(*v));
    if (end == list.size()) break;
    start = end + 1;
  }
}

std::string device_check(std::string& d) {
  const bool cuda_n =
      d.rfind("cuda:", 0) == 0 && d.size() > 5 && d.find_first_not_of("0123456789", 5) == std::string::npos;
  if (d == "cpu" || d == "cuda" || cuda_n) return {};
  return fmt::format("unknown device '{}': give cpu, cuda or cuda:N (N a GPU index)", d);
}

std::string shard_check(const std::string& v) {
  int i = 0, n = 0;
  char slash = 0, extra = 0;
  if (std::sscanf(v.c_str(), "%d%c%d%c", &i, &slash, &n, &extra) != 3 || slash != '/' || n < 1 || i < 1 || i > n)
    return "expected I/N with 1 <= I <= N, e.g. 1/4";
  return {};
}

}  // namespace

void register_bench_command(CommandRegistry& registry) {
  auto args = std::make_shared<Args>();
  CLI::App* sub = registry.app.add_subcommand(
      "bench", "the study's protocol on the model zoo: energy and gCO2e per 1,000 inferences per task and model");
  if (!registry.wanted(sub)) return;
  sub->add_option("--task", args->tasks, "task (repeatable): " + task_names());
  sub->add_option("--model", args->models,
                  "zoo preset (repeatable; `joulebench models` lists them) or a TorchScript file (path/to/model.pt)");
  sub->add_option("--model-config", args->model_config,
                  "TOML describing a TorchScript --model's inputs and outputs (default: model.toml beside model.pt; "
                  "docs/bench.md)");
  sub->add_option("--input-length", args->input_length,
                  "TorchScript text models: token ids per input, cut and padded (0 = longest of each batch)")
      ->check(within({"input length", 0, 1e6, "tokens", true, ""}));
  sub->add_option("--image-size", args->image_size, "TorchScript image models: input HEIGHTxWIDTH (e.g. 224x224)");
  sub->add_option("--n", args->n, "inferences per repetition (study: 1000; default run: 30)")
      ->check(within({"inferences per repetition", 1, 1e9, "", true, ""}));
  sub->add_option("--reps", args->reps, "repetitions per cell (study: 10; default run: 3)")
      ->check(within({"repetitions", 1, 1e6, "", true, ""}));
  sub->add_option("--warmup", args->warmup, "unmeasured inferences before the first repetition (default 10)")
      ->check(within({"warm-up inferences", 0, 1e9, "", true, ""}));
  sub->add_option_function<std::string>(
         "--batch", [args](const std::string& list) { add_batch_sizes(list, args->batches); },
         "batch sizes to sweep, e.g. 1,8,32 (default 1); each at most --n")
      ->type_name("LIST");
  sub->add_option("--threads", args->threads, "intra-op threads (0 = libtorch default)")
      ->check(within({"threads", 0, 4096, "", true, "0 = libtorch's default"}));
  sub->add_option("--dtype", args->dtype, "fp32 (default), bf16 or fp16")->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  sub->add_option("--device", args->device, "cpu (default), cuda or cuda:N")->check(CLI::Validator(device_check, "DEVICE"));
  sub->add_option("--data", args->data,
                  "your inputs: a .jsonl/.csv file with a text column, a folder of images, or a prompts file");
  sub->add_option("--text-column", args->text_column, "the text column of a --data .jsonl/.csv (default text)");
  sub->add_option("--steps", args->steps, "text-to-image diffusion steps (default: the model's, 50)")
      ->check(within({"diffusion steps", 1, 10000, "", true, ""}));
  sub->add_flag("--json", args->json, "JSON array on stdout, one object per run (docs/bench.md)");
  sub->add_flag("--quiet,-q", args->quiet, "no progress, messages or table (with --json: only the JSON)");
  sub->add_option("--shard", args->shard, "run shard I of N of the cells (join stores with `joulebench merge`)")
      ->check(shard_check);
  sub->add_option("--protocol", args->protocol,
                  "quick (default with no --task/--model: N=30 x 3), study (the study's models, N=1000 x 10) or custom "
                  "(the study's N=1000 x 10 on the tasks and models named; the default when any is named)")
      ->check(CLI::IsMember({"quick", "study", "custom"}));
  sub->add_option("--idle-baseline", args->idle_baseline_s,
                  "seconds of idle power measured before the campaign (default 5; study 30; 0 = none)")
      ->check(within(kWaitSecondsLimits));
  sub->add_option("--cooldown", args->cooldown_s, "seconds of pause after each repetition (default 0; study 5)")
      ->check(within(kWaitSecondsLimits));
  sub->add_option("--interval", args->interval_ms, "sampling interval in milliseconds (default 100)")
      ->check(within(kIntervalMsLimits));
  sub->add_option("--html", args->html,
                  "where the HTML report of the store goes at the end (default: the store's name + -report.html)");
  sub->add_flag("--no-report", args->no_report, "write no HTML report at the end");
  sub->add_option("--endpoint", args->endpoint.url,
                  "a live OpenAI-compatible server: URL of /v1/completions, /v1/chat/completions, /v1/embeddings or "
                  "/v1/images/generations (--model is then the request's model field)");
  sub->add_option("--server-pid", args->server_pid, "the server's PID: its process tree gets the attributed energy")
      ->check(within({"process id", 1, 4194304, "", true, "Linux's largest pid_max"}));
  sub->add_option("--max-tokens", args->endpoint.max_tokens, "new tokens asked of an endpoint (default 10, the study's)")
      ->check(within({"new tokens", 1, 1e6, "", true, ""}));
  sub->add_option("--timeout", args->endpoint.timeout_s, "seconds per endpoint request attempt (default 60)")
      ->check(within({"request timeout", 0.001, 86400, "s", false, ""}));
  sub->add_option("--retries", args->endpoint.retries,
                  "further attempts after an endpoint timeout, connection error, HTTP 5xx or 429 (default 2)")
      ->check(within({"retries", 0, 100, "", true, ""}));
  add_store_option(*sub, args->store);
  sub->add_option("--spool", args->spool,
                  "with a postgresql:// --store: the SQLite file that keeps runs while the database is unreachable "
                  "(default: $JOULEBENCH_SPOOL, else ./joulebench-spool.db; ./joulebench-spool-shard-I-of-N.db with "
                  "--shard)");
  add_sensor_options(*sub, args->sensors);
  add_carbon_options(*sub, args->carbon);
  registry.add(sub, [args] {
    if (const char* key = std::getenv("OPENAI_API_KEY"); key && args->endpoint.api_key.empty()) args->endpoint.api_key = key;
    return run(*args);
  });
}

}  // namespace joulebench::cli
