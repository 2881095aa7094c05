#include "session/record_pipe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace otelrr::session {
namespace {

using std::chrono::milliseconds;

Record RecordOf(uint64_t sequence, size_t bytes = 10) {
  Record r;
  r.sequence = sequence;
  r.payload.assign(bytes, 'x');
  return r;
}

// Waits (in real time, bounded) until `done()`.
template <typename Done>
bool Eventually(Done&& done) {
  for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(milliseconds(1));
  return done();
}

TEST(RecordPipe, HandsOverEveryRecordInOrderThenTheEnd) {
  RecordPipe pipe({.max_records = 3, .max_bytes = 1 << 20});
  std::thread producer([&] {
    for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(pipe.Push(RecordOf(i)));
    pipe.Finish();
  });
  Record r;
  for (uint64_t i = 0; i < 1000; ++i) {
    absl::StatusOr<bool> more = pipe.Next(&r);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_EQ(r.sequence, i);
  }
  absl::StatusOr<bool> more = pipe.Next(&r);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  producer.join();
}

TEST(RecordPipe, AFullPipeLetsTheProducerOnOnlyOnceHalfIsTaken) {
  RecordPipe pipe({.max_records = 8, .max_bytes = 1 << 20});
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (uint64_t i = 0; i < 20; ++i) {
      if (!pipe.Push(RecordOf(i))) return;
      pushed.fetch_add(1);
    }
    pipe.Finish();
  });
  ASSERT_TRUE(Eventually([&] { return pushed.load() == 8; }));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(pushed.load(), 8);  // full: the ninth waits
  Record r;
  for (int taken = 1; taken <= 3; ++taken) {
    ASSERT_TRUE(*pipe.Next(&r));
    std::this_thread::sleep_for(milliseconds(20));
    EXPECT_EQ(pushed.load(), 8) << "after " << taken << " taken, " << 8 - taken << " still queued";
  }
  ASSERT_TRUE(*pipe.Next(&r));  // 4 queued: half of 8
  ASSERT_TRUE(Eventually([&] { return pushed.load() == 12; }));  // it fills the pipe again in one go
  pipe.Close();
  producer.join();
}

TEST(RecordPipe, BytesBoundTheQueueTooAndOneLargeRecordAlwaysPasses) {
  RecordPipe pipe({.max_records = 100, .max_bytes = 1000});
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    if (!pipe.Push(RecordOf(0, 5000))) return;  // larger than the bound, alone: let through
    pushed.fetch_add(1);
    if (!pipe.Push(RecordOf(1, 10))) return;  // waits until the large one is taken
    pushed.fetch_add(1);
    pipe.Finish();
  });
  ASSERT_TRUE(Eventually([&] { return pushed.load() == 1; }));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(pushed.load(), 1);
  Record r;
  ASSERT_TRUE(*pipe.Next(&r));
  EXPECT_EQ(r.payload.size(), 5000u);
  ASSERT_TRUE(*pipe.Next(&r));
  EXPECT_EQ(r.sequence, 1u);
  EXPECT_FALSE(*pipe.Next(&r));
  producer.join();
}

TEST(RecordPipe, CloseStopsAWaitingProducerAndFinishCarriesItsError) {
  RecordPipe pipe({.max_records = 1, .max_bytes = 1 << 20});
  std::atomic<bool> refused{false};
  std::thread producer([&] {
    (void)pipe.Push(RecordOf(0));
    refused = !pipe.Push(RecordOf(1));  // waits: full
  });
  std::this_thread::sleep_for(milliseconds(20));
  pipe.Close();
  producer.join();
  EXPECT_TRUE(refused.load());

  RecordPipe failing;
  std::thread fails([&] {
    std::this_thread::sleep_for(milliseconds(20));  // the consumer is waiting by then
    failing.Finish(absl::DataLossError("the file ended mid-record"));
  });
  Record r;
  absl::StatusOr<bool> more = failing.Next(&r);
  fails.join();
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().message(), "the file ended mid-record");
}

}  // namespace
}  // namespace otelrr::session
