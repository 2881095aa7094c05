#include "session/session_id.h"

#include <string>

#include "gtest/gtest.h"

namespace otelrr::session {
namespace {

TEST(ValidateSessionIdTest, AcceptsSafeIds) {
  for (std::string_view id : {"a", "capture-2026-11-26T11.45.44Z", "seed_01", "A.b-C_d", "...", ".hidden"}) {
    EXPECT_TRUE(ValidateSessionId(id).ok()) << id;
  }
  EXPECT_TRUE(ValidateSessionId(std::string(128, 'x')).ok());
}

TEST(ValidateSessionIdTest, RejectsEverythingThatCouldLeaveTheStore) {
  for (std::string_view id : {"", ".", "..", "../x", "a/b", "/abs", "a\\b", "a b", "é", "a:b", "x\n"}) {
    absl::Status s = ValidateSessionId(id);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_NE(std::string(s.message()).find("letters, digits"), std::string_view::npos) << s.message();
  }
  EXPECT_FALSE(ValidateSessionId(std::string(129, 'x')).ok());
  EXPECT_FALSE(ValidateSessionId(std::string_view("a\0b", 3)).ok());
}

TEST(ValidateSessionIdTest, MessageNamesTheOffendingCharacter) {
  absl::Status s = ValidateSessionId("ab/c");
  EXPECT_NE(std::string(s.message()).find("character 3 ('/')"), std::string_view::npos) << s.message();
}

}  // namespace
}  // namespace otelrr::session
