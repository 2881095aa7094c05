#include "session/record.h"

#include "gtest/gtest.h"

namespace otelrr::session {
namespace {

Record Sample() {
  return Record{.arrival_unix_nano = 0x0102030405060708ull,
                .sequence = 42,
                .signal = otlp::Signal::kMetrics,
                .transport = Transport::kGrpc,
                .encoding = Encoding::kJson,
                .payload = "payload"};
}

TEST(RecordTest, EncodesTheDocumentedByteLayout) {
  std::string buf;
  ASSERT_TRUE(AppendRecord(Sample(), &buf).ok());
  const std::string expected_header(
      "OTR1"
      "\x20\x00\x00\x00"  // header size 32
      "\x07\x00\x00\x00"  // payload size 7
      "\x02\x02\x01\x00"  // metrics, grpc, json, reserved
      "\x08\x07\x06\x05\x04\x03\x02\x01"
      "\x2a\x00\x00\x00\x00\x00\x00\x00",
      32);
  EXPECT_EQ(buf, expected_header + "payload");
}

TEST(RecordTest, RoundTripsSeveralRecords) {
  std::string buf;
  Record a = Sample();
  Record b{.arrival_unix_nano = 5, .sequence = 43, .signal = otlp::Signal::kLogs, .payload = ""};
  ASSERT_TRUE(AppendRecord(a, &buf).ok());
  ASSERT_TRUE(AppendRecord(b, &buf).ok());
  Record got;
  absl::StatusOr<size_t> used = DecodeRecord(buf, &got);
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_EQ(got, a);
  used = DecodeRecord(std::string_view(buf).substr(*used), &got);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 32u);
  EXPECT_EQ(got, b);
}

TEST(RecordTest, SkipsHeaderBytesAddedByLaterVersions) {
  std::string buf;
  ASSERT_TRUE(AppendRecord(Sample(), &buf).ok());
  buf[4] = 40;                                  // a 40-byte header
  buf.insert(32, std::string(8, '\xee'));       // with 8 bytes this reader does not know
  Record got;
  absl::StatusOr<size_t> used = DecodeRecord(buf, &got);
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_EQ(*used, buf.size());
  EXPECT_EQ(got, Sample());
}

TEST(RecordTest, RejectsCorruptHeaders) {
  std::string good;
  ASSERT_TRUE(AppendRecord(Sample(), &good).ok());
  Record got;
  auto code = [&](std::string bytes) { return DecodeRecord(bytes, &got).status().code(); };
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_EQ(code(bad), absl::StatusCode::kDataLoss);
  bad = good;
  bad[4] = 8;  // header smaller than 32
  EXPECT_EQ(code(bad), absl::StatusCode::kDataLoss);
  bad = good;
  bad[11] = 0x20;  // 512 MiB payload
  EXPECT_EQ(code(bad), absl::StatusCode::kDataLoss);
  bad = good;
  bad[12] = 9;  // unknown signal
  EXPECT_EQ(code(bad), absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(good.substr(0, 20)), absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(good.substr(0, good.size() - 1)), absl::StatusCode::kDataLoss);
}

TEST(RecordTest, RefusesToWriteOversizedPayloads) {
  Record r = Sample();
  r.payload.assign(kMaxRecordPayloadSize + 1, 'x');
  std::string buf;
  EXPECT_EQ(AppendRecord(r, &buf).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(buf.empty());
}

TEST(RecordTest, NamesTransportsAndEncodings) {
  EXPECT_EQ(TransportName(Transport::kGenerated), "generated");
  EXPECT_EQ(TransportName(static_cast<Transport>(77)), "unknown");
  EXPECT_EQ(EncodingName(Encoding::kJson), "json");
}

}  // namespace
}  // namespace otelrr::session
