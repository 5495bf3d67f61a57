// The study's protocol ("Power Hungry Processing", FAccT 2024) as a library:
// input sets per task, a campaign of cells (task x model x dataset x batch),
// each cell warm-up + R repetitions of N inferences, one meter window per
// repetition, stored run by run in the results store, resumable and
// interruptible. Torch-free: models come through the models.h API via a
// loader function, so tests drive it with fake models. Contract: docs/bench.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "joulebench/carbon.h"
#include "joulebench/energy.h"
#include "joulebench/models.h"
#include "joulebench/store.h"
#include "joulebench/tracker.h"

namespace joulebench {

// ---- Inputs ---------------------------------------------------------------------

struct BenchInputSet {
  std::string name;         // the dataset column of the store: "fortunes-imdb-length", "images", a file name
  std::string description;  // where the inputs come from, in words
  std::vector<InferenceInput> inputs;  // cycled when N is larger
};

// The built-in input set of `task`, made from the real texts and images that
// scripts/fetch_data.sh extracts into `data_dir` (fortunes, Reuters-21578
// articles, darknet and scikit-image photos). Text lengths follow the study's
// datasets (docs/bench.md). Throws InputError naming the missing folder and
// the script to run when the data is not there.
BenchInputSet builtin_inputs(Task task, const std::filesystem::path& data_dir);

// `--protocol study`: one set per study dataset whose mean input length the
// study gives (text classification: IMDB, Rotten Tomatoes, SST-2; question
// answering: SQuAD, SQuAD v2, SciQ; summarization: CNN-DailyMail, SAMSum,
// XSum), each built as builtin_inputs builds the first; other tasks: the one
// built-in set.
std::vector<BenchInputSet> study_input_sets(Task task, const std::filesystem::path& data_dir);

// The user's own inputs: a folder of JPEG/PNG images (image tasks), a .jsonl or
// .csv file with a text column (`text_column`; an optional "context" column
// for question answering), or any other file read as prompts, one per line
// (blank lines and '#' lines skipped). Throws InputError naming the file.
BenchInputSet user_inputs(Task task, const std::filesystem::path& path, const std::string& text_column = "text");

// ---- Plan -------------------------------------------------------------------

// One cell of a campaign: one model on one dataset with one configuration.
struct BenchCell {
  Task task = Task::text_classification;
  std::string model;
  std::shared_ptr<const BenchInputSet> inputs;
  int batch = 1;
  std::string purpose = {};  // ModelInfo::purpose: an off-task model is ranked apart
  std::string dataset() const { return inputs ? inputs->name : std::string(); }
};

// quick: small enough for a 2-core laptop in minutes; study: the study's
// 1,000 x 10 on its models and datasets; custom: the study's N and R on what
// the user named (docs/bench.md).
enum class BenchProtocol { quick, study, custom };
std::string_view to_string(BenchProtocol protocol);

struct BenchSettings {
  int n = 1000;          // inferences per repetition
  int reps = 10;         // repetitions per cell
  int warmup = 10;       // unmeasured inferences before the first repetition (capped at n)
  int threads = 0;       // 0 = libtorch default
  std::string dtype = "fp32";
  std::string device = "cpu";
  double cooldown_s = 0.0;  // pause after each repetition (cell boundaries included)
  BenchProtocol protocol = BenchProtocol::custom;  // recorded with each run
  std::string source;               // the command line, recorded with each run
  // Generation overrides passed to every model (text-to-image steps etc.).
  LoadOptions load;
};

// Every cell's identity: two cells with the same key measure the same thing
// (resume skips a cell whose key has a complete run in the store).
std::string cell_key(const BenchCell& cell, const BenchSettings& settings);

// What the campaign passes to the loader for `cell`: settings.load with the
// device, dtype, threads and the cell's task.
LoadOptions cell_load_options(const BenchCell& cell, const BenchSettings& settings);

// The cells of shard `index` (1-based) of `count`: every count-th cell,
// starting at index - 1, so that shards get a mix of tasks. Throws InputError
// unless 1 <= index <= count.
std::vector<BenchCell> select_shard(const std::vector<BenchCell>& cells, int index, int count);

// The default models of `task` among `models`: quick = every task-specific
// small preset (tiny where the task has none, and for text-to-image, where
// one small image takes ~13 minutes on a 2-core CPU); study = the study's
// task-specific models (size class "study", not multi-purpose).
std::vector<std::string> default_models(Task task, const std::vector<ModelInfo>& models, BenchProtocol protocol);

// The protocol a command runs: the one named ("quick", "study", "custom");
// none named: quick for a run that names no task, model or endpoint (the
// default run), custom otherwise. Throws InputError for another name.
BenchProtocol bench_protocol(std::string_view name, bool names_nothing);

// A protocol's settings and idle baseline: quick 30 x 3 with 2 warm-up
// inferences and 5 s idle; study 1,000 x 10 with 10 warm-up, 30 s idle and
// 5 s cool-down; custom the study's N, R and warm-up with 5 s idle.
struct BenchPreset {
  BenchSettings settings;
  double idle_baseline_s = 5.0;
};
BenchPreset bench_preset(BenchProtocol protocol);

// What a campaign is asked to measure, as the user named it.
struct BenchRequest {
  std::vector<std::string> tasks;   // empty: every task (or, with models, each model's own)
  std::vector<std::string> models;  // zoo presets or TorchScript files (.pt); empty: the protocol's defaults
  std::vector<int> batches = {1};
  std::string endpoint_url;         // a live server instead of the zoo (its models are what it serves)
  std::string data;                 // the user's inputs (user_inputs) instead of the built-in sets
  std::string text_column = "text";
  // A TorchScript file's inputs, over its TOML description.
  std::string model_config;
  std::optional<int> input_length;
  std::string image_size;  // "HEIGHTxWIDTH" or one side
};

struct BenchPlan {
  std::vector<BenchCell> cells;  // tasks in order, then models, datasets and batches
  std::map<std::string, TorchScriptSpec> torchscript;  // by cell model name
  std::string endpoint_model;  // the model to ask a live server for ("" = its default)
};

// Resolves names to cells before anything is measured: unknown tasks and
// models (with the valid ones listed), a model that does not serve the task,
// TorchScript descriptions and flags that only make sense with one, and the
// inputs of each task (read once, shared by its cells). Throws InputError
// naming the flag. `zoo` is empty for a live endpoint.
BenchPlan plan_campaign(const BenchRequest& request, BenchProtocol protocol, const std::vector<ModelInfo>& zoo,
                        const std::filesystem::path& data_dir);

// ---- Results ----------------------------------------------------------------

// One repetition of one cell (the study's "run": N inferences), or a cell
// that failed (RunStatus::failed, error set, no measurement).
struct BenchRun {
  BenchCell cell;
  std::string run_id;  // the store's run (one per cell)
  int repetition = 0;  // 1-based
  RunStatus status = RunStatus::complete;
  std::string error;
  Measurement measurement;
  std::int64_t inferences = 0;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  double latency_p50_s = 0.0;  // of one infer() call (one batch)
  double latency_p95_s = 0.0;
  std::optional<CarbonResult> carbon;  // nullopt when nothing was measured

  double energy_j() const { return measurement.total_energy_j(); }
  double j_per_inference() const;
  std::optional<double> j_per_output_token() const;
  double kwh_per_1000() const;
  std::optional<double> gco2e_per_1000() const;
};

struct BenchProgress {
  std::size_t cell_index = 0;  // 0-based, among the cells to run
  std::size_t cell_count = 0;
  const BenchCell* cell = nullptr;
  std::string phase;  // "idle", "load", "warmup", "measure", "cooldown"
  int repetition = 0;
  int reps = 0;
  double elapsed_s = 0.0;
  std::optional<double> eta_s;  // from the repetitions done so far
};

struct BenchCallbacks {
  std::function<void(const BenchProgress&)> progress;  // called often: keep it cheap
  std::function<void(const BenchRun&)> run_done;
  // Checked between batches: when true, the cell in progress is discarded
  // (its store run deleted) and the campaign returns interrupted.
  const std::atomic<bool>* stop = nullptr;
};

using ModelLoader = std::function<std::unique_ptr<Model>(const std::string& name, const LoadOptions& options)>;

struct CampaignResult {
  std::vector<BenchRun> runs;           // complete repetitions and failed cells, in order
  std::vector<BenchCell> skipped;       // already complete in the store
  std::size_t failed_cells = 0;
  bool interrupted = false;
  std::optional<BenchCell> interrupted_cell;
  std::optional<IdleBaseline> idle;
  CarbonSettings carbon;
};

// Everything the campaign needs from outside.
struct BenchContext {
  Tracker& tracker;
  Store& store;
  const CarbonSettings& carbon;
  ModelLoader loader;
  MachineInfo machine;
  double idle_baseline_s = 0.0;  // > 0: measured once before the first cell
  // What runs the models, recorded with every run ("libtorch", "blas",
  // "blas_core", "blas_core_chosen_by"); `compare` warns when two differ.
  std::map<std::string, std::string> software;
};

// Runs the cells: each cell is one store run (kind bench, status complete or
// failed with its error) holding one window per repetition. Cells whose key
// already has a complete run in the store are skipped; an older incomplete
// run of the same key is deleted first when it is proven abandoned (failed,
// interrupted, or 'running' for a process of this host that is gone); a run
// another live process is measuring is left alone. Anything that throws inside
// a cell (the model, or a store write) fails that cell only, recorded as a
// failed run; an error the store raises while recording that failure
// propagates.
// Throws InputError naming the flag when the settings or a cell cannot run
// (N or repetitions below 1, a batch below 1 or larger than N, a cell without
// inputs). run_campaign checks first; a caller may check before it creates a
// store.
void check_campaign(const std::vector<BenchCell>& cells, const BenchSettings& settings);

CampaignResult run_campaign(const std::vector<BenchCell>& cells, const BenchSettings& settings, BenchContext& context,
                            const BenchCallbacks& callbacks = {});

// Keys of the cells that have a complete bench run in `store`.
std::set<std::string> completed_cell_keys(Store& store);

// Stars of models of one task and configuration (joulebench/stars.h): their
// range cut into 5 bands equal on a log scale, lowest 5 stars; none (nullopt)
// among fewer than kMinModelsForStars models.
std::map<std::string, std::optional<int>> energy_stars(const std::map<std::string, double>& value_by_model);

// One JSON object per run (docs/bench.md): task, model, dataset, batch,
// repetition, status, error, inferences, duration_s, energy_j, components[],
// provenance, input/output tokens, latency, j_per_inference,
// j_per_output_token, kwh_per_1000, gco2e_per_1000, equivalents_per_1000, run_id.
nlohmann::json bench_run_json(const BenchRun& run);

// Per task and model: repetitions, kWh and gCO2e per 1,000 (mean ± sample
// std), J per inference, stars; failed cells listed with their error.
// `resolution`: the tracker's (Meter::resolution); a group whose repetitions
// are shorter is marked "~" and a line under the table says by how much and
// which N would do.
std::string render_bench_summary(const CampaignResult& result, const Meter::Resolution& resolution = {});

// ---- Live endpoints ---------------------------------------------------------

// An OpenAI-compatible server (vLLM, TGI, llama.cpp server, Ollama, ...).
struct EndpointOptions {
  // Full URL of the API: http(s)://HOST:PORT/v1/completions, /v1/chat/completions,
  // /v1/embeddings or /v1/images/generations (the path chooses the request).
  std::string url;
  std::string model;       // the request's "model" field (empty: left out)
  int max_tokens = 10;     // the study's 10 new tokens
  double timeout_s = 60.0;  // per attempt: connect, read and write
  int retries = 2;          // further attempts after a connection error, timeout, HTTP 5xx or 429
  double retry_backoff_s = 0.5;  // wait before attempt k: k x this
  std::string api_key;      // sent as "Authorization: Bearer KEY" when set
  std::string image_size = "512x512";
};

// A Model whose infer() sends one request per input (sequentially) and takes
// input/output tokens from the answer's `usage`. Throws InputError for a bad
// URL; infer() throws Error naming the endpoint after the last failed attempt
// (the campaign then records the cell as failed).
std::unique_ptr<Model> make_endpoint_model(const EndpointOptions& options, Task task);

// Copies every run of `from` that `into` does not hold yet (same run id),
// windows included, by copy_run (store.h): a run `into` holds only as a
// cut-off 'running' part is replaced by `from`'s further copy (a spool's).
// Returns how many runs were written.
std::size_t merge_stores(Store& from, Store& into);

}  // namespace joulebench
