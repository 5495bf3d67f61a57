#include <gtest/gtest.h>

#include <set>

#include "joulebench/models.h"

namespace joulebench {
namespace {

TEST(Task, TenTasksWithUniqueKebabNames) {
  std::set<std::string_view> names;
  for (Task t : all_tasks()) {
    auto name = to_string(t);
    EXPECT_EQ(name.find('_'), std::string_view::npos) << name;
    EXPECT_EQ(task_from_string(name), t);
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 10u);
  EXPECT_FALSE(task_from_string("text_classification"));
}

TEST(Task, ModalityFollowsInput) {
  EXPECT_EQ(modality(Task::image_to_text), "image");
  EXPECT_EQ(modality(Task::text_to_image), "text");
  EXPECT_EQ(modality(Task::fill_mask), "text");
}

}  // namespace
}  // namespace joulebench
