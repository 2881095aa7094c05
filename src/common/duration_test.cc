#include "common/duration.h"

#include <gtest/gtest.h>

namespace otelrr {
namespace {

TEST(DurationTest, UnitsAndSums) {
  EXPECT_EQ(*ParseDuration("90s"), 90'000'000'000ull);
  EXPECT_EQ(*ParseDuration("1h30m"), 5'400'000'000'000ull);
  EXPECT_EQ(*ParseDuration("500ms"), 500'000'000ull);
  EXPECT_EQ(*ParseDuration("2d"), 172'800'000'000'000ull);
  EXPECT_EQ(*ParseDuration("1.5h"), 5'400'000'000'000ull);
  EXPECT_EQ(*ParseDuration("250us"), 250'000ull);
  EXPECT_EQ(*ParseDuration("7ns"), 7ull);
  EXPECT_EQ(*ParseDuration("0s"), 0ull);
}

TEST(DurationTest, RefusesWhatIsNotADuration) {
  for (const char* text : {"", "30", "s", "1x", "1h 30m", "-5s", "1..5s", ".s", "99999999d"}) {
    absl::StatusOr<uint64_t> d = ParseDuration(text);
    EXPECT_FALSE(d.ok()) << text;
    EXPECT_NE(d.status().message().find("is not a duration"), std::string::npos) << d.status();
  }
}

}  // namespace
}  // namespace otelrr
