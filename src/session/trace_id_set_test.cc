#include "session/trace_id_set.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace otelrr::session {
namespace {

std::string Id(uint64_t hi, uint64_t lo) {
  std::string id(16, '\0');
  std::memcpy(id.data(), &hi, 8);
  std::memcpy(id.data() + 8, &lo, 8);
  return id;
}

void Insert(TraceIdSet& set, const std::string& id) { set.Insert(reinterpret_cast<const uint8_t*>(id.data())); }

TEST(TraceIdSetTest, CountsDistinctIdsInMemory) {
  TraceIdSet set;
  for (int pass = 0; pass < 3; ++pass) {
    for (uint64_t i = 0; i < 1000; ++i) Insert(set, Id(0, i));  // structured ids: a counter in one half
  }
  EXPECT_EQ(set.bound(), 1000u);
  EXPECT_EQ(set.Count().value(), 1000u);
  EXPECT_EQ(set.runs(), 0u);
}

// What a writer takes back (SessionWriter::Rollback): ids inserted since the mark are forgotten, ids seen before
// it stay, even when inserted again since; no spill happens between a mark and the undo, so all of it is in
// memory to forget, and the deferred spill comes at the next mark.
TEST(TraceIdSetTest, UndoToMarkForgetsExactlyWhatWasNewSinceTheMark) {
  TraceIdSet set({.max_memory_ids = 10});
  for (uint64_t i = 0; i < 25; ++i) Insert(set, Id(1, i));  // spills twice before any mark
  const size_t runs = set.runs();
  ASSERT_GT(runs, 0u);
  set.Mark();
  for (uint64_t i = 20; i < 60; ++i) Insert(set, Id(1, i));  // 20..24 seen before, 25..59 new
  EXPECT_EQ(set.runs(), runs) << "no spill between a mark and the undo";
  set.UndoToMark();
  EXPECT_EQ(set.Count().value(), 25u);
  set.Mark();
  for (uint64_t i = 25; i < 30; ++i) Insert(set, Id(1, i));
  set.Mark();  // kept, and the set is at its bound: spilled now
  EXPECT_EQ(set.runs(), runs + 1);
  EXPECT_EQ(set.Count().value(), 30u);
  for (uint64_t i = 0; i < 40; ++i) Insert(set, Id(2, i));
  set.UndoToMark();
  EXPECT_EQ(set.Count().value(), 30u);
}

// Random ids with repeats spread over the whole session (as a trace's spans arrive across spills): the
// count over spilled runs and the set equals an exact std::set count, through the merge of kMaxRuns runs.
TEST(TraceIdSetTest, SpilledRunsCountExactlyThroughCompaction) {
  TraceIdSet set({.max_memory_ids = 100});
  std::set<std::string> exact;
  std::mt19937_64 rng(7);
  std::vector<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    std::string id;
    if (!seen.empty() && rng() % 3 == 0) {
      id = seen[rng() % seen.size()];  // an id seen before, maybe several spills ago
    } else {
      id = Id(rng(), rng());
      seen.push_back(id);
    }
    Insert(set, id);
    exact.insert(id);
    EXPECT_GE(set.bound(), exact.size());
  }
  EXPECT_GE(set.runs(), 1u);
  EXPECT_LT(set.runs(), TraceIdSet::kMaxRuns);  // compacted on the way: 3,300 distinct ids are 33 spills
  EXPECT_TRUE(set.spill_error().ok());
  EXPECT_EQ(set.Count().value(), exact.size());
  Insert(set, seen.front());  // a repeat changes nothing
  EXPECT_EQ(set.Count().value(), exact.size());
  Insert(set, Id(1, 2));
  EXPECT_EQ(set.Count().value(), exact.size() + 1);
}

TEST(TraceIdSetTest, MovedSetKeepsItsRuns) {
  TraceIdSet a({.max_memory_ids = 10});
  for (uint64_t i = 0; i < 95; ++i) Insert(a, Id(i, 1));
  TraceIdSet b = std::move(a);
  for (uint64_t i = 0; i < 95; ++i) Insert(b, Id(i, 1));
  EXPECT_EQ(b.Count().value(), 95u);
}

// A spill directory that does not exist: the set keeps everything in memory and still counts exactly.
TEST(TraceIdSetTest, FailedSpillKeepsIdsInMemory) {
  TraceIdSet set({.max_memory_ids = 10, .spill_dir = "/nonexistent/otelrr-spill"});
  for (uint64_t i = 0; i < 50; ++i) Insert(set, Id(i, i));
  EXPECT_EQ(set.runs(), 0u);
  EXPECT_FALSE(set.spill_error().ok());
  EXPECT_NE(set.spill_error().message().find("/nonexistent/otelrr-spill"), std::string::npos);
  EXPECT_EQ(set.Count().value(), 50u);
}

}  // namespace
}  // namespace otelrr::session
