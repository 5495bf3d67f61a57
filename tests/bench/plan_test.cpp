// Planning a campaign (src/bench/plan.cpp): protocol presets and the user's
// names resolved to cells, before anything is measured.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "joulebench/bench.h"
#include "joulebench/error.h"
#include "../support/expect_throw.h"

namespace joulebench {
namespace {

ModelInfo info(std::string name, Task t, std::string size, bool multi = false, std::string purpose = {}) {
  ModelInfo m;
  m.name = std::move(name);
  m.task = t;
  m.size_class = std::move(size);
  m.multi_purpose = multi;
  m.purpose = std::move(purpose);
  return m;
}

const std::vector<ModelInfo>& zoo() {
  static const std::vector<ModelInfo> z = {
      info("big", Task::fill_mask, "study"),          info("flan", Task::fill_mask, "small", true),
      info("flan", Task::summarization, "small", true), info("small-a", Task::fill_mask, "small"),
      info("small-b", Task::fill_mask, "small"),      info("tiny-cap", Task::image_to_text, "tiny"),
      info("sd-small", Task::text_to_image, "small"), info("sd-tiny", Task::text_to_image, "tiny"),
      info("lid", Task::text_classification, "small", false, "language identification")};
  return z;
}

const std::filesystem::path kData = JOULEBENCH_FETCHED_DATA_DIR;

std::string error_of(const BenchRequest& r) {
  return jbtest::thrown_message<InputError>([&] { plan_campaign(r, BenchProtocol::custom, zoo(), kData); });
}

TEST(BenchDefaults, SmallPresetsElseTiny) {
  EXPECT_EQ(default_models(Task::fill_mask, zoo(), BenchProtocol::quick), (std::vector<std::string>{"small-a", "small-b"}));
  EXPECT_EQ(default_models(Task::image_to_text, zoo(), BenchProtocol::quick), std::vector<std::string>{"tiny-cap"});
  EXPECT_EQ(default_models(Task::text_to_image, zoo(), BenchProtocol::quick), std::vector<std::string>{"sd-tiny"});
  EXPECT_EQ(default_models(Task::fill_mask, zoo(), BenchProtocol::study), std::vector<std::string>{"big"});
}

TEST(BenchProtocolPreset, NamedOrChosenByWhatTheRunNames) {
  EXPECT_EQ(bench_protocol("", true), BenchProtocol::quick);
  EXPECT_EQ(bench_protocol("", false), BenchProtocol::custom);
  EXPECT_EQ(bench_protocol("study", true), BenchProtocol::study);
  EXPECT_EQ(bench_protocol("quick", false), BenchProtocol::quick);
  EXPECT_THROW_MSG(bench_protocol("fast", true), InputError, "expected quick, study or custom");
}

TEST(BenchProtocolPreset, EachProtocolsSettings) {
  const BenchPreset quick = bench_preset(BenchProtocol::quick);
  EXPECT_EQ(quick.settings.n, 30);
  EXPECT_EQ(quick.settings.reps, 3);
  EXPECT_EQ(quick.settings.warmup, 2);
  EXPECT_EQ(quick.idle_baseline_s, 5.0);
  EXPECT_EQ(quick.settings.protocol, BenchProtocol::quick);
  const BenchPreset study = bench_preset(BenchProtocol::study);
  EXPECT_EQ(study.settings.n, 1000);
  EXPECT_EQ(study.settings.reps, 10);
  EXPECT_EQ(study.idle_baseline_s, 30.0);
  EXPECT_EQ(study.settings.cooldown_s, 5.0);
  const BenchPreset custom = bench_preset(BenchProtocol::custom);
  EXPECT_EQ(custom.settings.n, 1000);
  EXPECT_EQ(custom.settings.cooldown_s, 0.0);
  EXPECT_EQ(to_string(custom.settings.protocol), "custom");
}

TEST(BenchPlanning, ModelsWithoutATaskRunTheirFirstTaskAndBatchesMultiply) {
  BenchRequest r;
  r.models = {"flan", "small-a"};
  r.batches = {1, 4};
  const BenchPlan plan = plan_campaign(r, BenchProtocol::custom, zoo(), kData);
  ASSERT_EQ(plan.cells.size(), 4u);
  EXPECT_EQ(plan.cells[0].model, "flan");
  EXPECT_EQ(plan.cells[0].task, Task::fill_mask);  // a multi-purpose model's first task
  EXPECT_EQ(plan.cells[1].batch, 4);
  EXPECT_EQ(plan.cells[2].model, "small-a");
  // One input set per task, shared by its cells.
  EXPECT_EQ(plan.cells[0].inputs, plan.cells[3].inputs);
  EXPECT_FALSE(plan.cells[0].inputs->inputs.empty());
}

TEST(BenchPlanning, NoModelsMeansTheProtocolsDefaultsAndOffTaskPurposeIsKept) {
  BenchRequest r;
  r.tasks = {"fill-mask", "text-classification"};
  const BenchPlan quick = plan_campaign(r, BenchProtocol::quick, zoo(), kData);
  ASSERT_EQ(quick.cells.size(), 3u);
  EXPECT_EQ(quick.cells[0].model, "small-a");
  EXPECT_EQ(quick.cells[2].model, "lid");
  EXPECT_EQ(quick.cells[2].purpose, "language identification");
  const BenchPlan study = plan_campaign(r, BenchProtocol::study, zoo(), kData);
  ASSERT_FALSE(study.cells.empty());
  EXPECT_EQ(study.cells[0].model, "big");
}

TEST(BenchPlanning, BadNamesListWhatIsValid) {
  BenchRequest task;
  task.tasks = {"fill-mask", "text-clasification"};
  EXPECT_NE(error_of(task).find("--task: unknown task 'text-clasification'; valid tasks: text-classification"),
            std::string::npos)
      << error_of(task);
  BenchRequest model;
  model.tasks = {"fill-mask"};
  model.models = {"smal-a"};
  EXPECT_NE(error_of(model).find("unknown model 'smal-a'; valid models for fill-mask: big, flan, small-a, small-b"),
            std::string::npos)
      << error_of(model);
  BenchRequest wrong_task;
  wrong_task.tasks = {"image-to-text"};
  wrong_task.models = {"small-a"};
  EXPECT_NE(error_of(wrong_task).find("--model small-a does not serve image-to-text; models for it: tiny-cap"),
            std::string::npos)
      << error_of(wrong_task);
}

TEST(BenchPlanning, TorchScriptFlagsNeedATorchScriptModel) {
  BenchRequest r;
  r.models = {"small-a"};
  r.image_size = "32x32";
  EXPECT_NE(error_of(r).find("describe a TorchScript model's inputs"), std::string::npos) << error_of(r);
}

TEST(BenchPlanning, ALiveEndpointIsItsOwnModel) {
  BenchRequest r;
  r.endpoint_url = "http://127.0.0.1:8000/v1/completions";
  const BenchPlan served_default = plan_campaign(r, BenchProtocol::custom, {}, kData);
  ASSERT_EQ(served_default.cells.size(), 1u);
  EXPECT_EQ(served_default.cells[0].task, Task::text_generation);
  EXPECT_EQ(served_default.cells[0].model, r.endpoint_url);
  EXPECT_EQ(served_default.endpoint_model, "");
  r.models = {"llama"};
  const BenchPlan named = plan_campaign(r, BenchProtocol::custom, {}, kData);
  EXPECT_EQ(named.cells[0].model, "llama");
  EXPECT_EQ(named.endpoint_model, "llama");
}

TEST(BenchPlanning, UserDataReplacesTheBuiltInInputs) {
  const auto dir = std::filesystem::temp_directory_path() / "joulebench-plan-test";
  std::filesystem::create_directories(dir);
  const auto prompts = dir / "prompts.txt";
  std::ofstream(prompts) << "# two prompts\nhello there\n\ngeneral kenobi\n";
  BenchRequest r;
  r.models = {"small-a"};
  r.data = prompts.string();
  const BenchPlan plan = plan_campaign(r, BenchProtocol::custom, zoo(), kData);
  ASSERT_EQ(plan.cells.size(), 1u);
  ASSERT_EQ(plan.cells[0].inputs->inputs.size(), 2u);
  EXPECT_EQ(plan.cells[0].inputs->inputs[1].text, "general kenobi");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace joulebench
