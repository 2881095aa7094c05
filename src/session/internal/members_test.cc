#include "session/internal/members.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "session/record.h"
#include "store/testing/string_reader.h"

namespace otelrr::session::internal {
namespace {

using store::testing::StringReader;

// `n` bytes that compress well (repeating text with a counter) or not at all (random).
std::string Data(size_t n, bool compressible, uint32_t seed) {
  std::string out;
  out.reserve(n);
  std::mt19937 rng(seed);
  for (size_t i = 0; out.size() < n; ++i) {
    if (compressible) {
      out += "span " + std::to_string(i % 977) + " of service checkout;";
    } else {
      out.push_back(static_cast<char>(rng()));
    }
  }
  out.resize(n);
  return out;
}

struct File {
  std::string bytes;
  std::vector<std::string> members;
  std::vector<uint64_t> ends;  // where each member ends in bytes
};

File MakeFile(Compression compression, const std::vector<std::pair<size_t, bool>>& sizes) {
  File f;
  MemberCompressor c(compression, 1);
  uint32_t seed = 1;
  for (auto [n, compressible] : sizes) {
    f.members.push_back(Data(n, compressible, seed++));
    EXPECT_TRUE(c.Compress(f.members.back(), &f.bytes).ok());
    f.ends.push_back(f.bytes.size());
  }
  return f;
}

// Reads members until something other than kMember; returns that status and the members read.
MemberStatus ReadAll(MemberReader& r, std::vector<std::string>* got, std::vector<uint64_t>* valid) {
  std::string member = "left over from before";
  while (true) {
    absl::StatusOr<MemberStatus> st = r.NextMember(&member);
    EXPECT_TRUE(st.ok()) << st.status();
    if (!st.ok() || *st != MemberStatus::kMember) return st.ok() ? *st : MemberStatus::kCorrupt;
    got->push_back(member);
    valid->push_back(r.valid_bytes());
  }
}

// Members small and large: the 3 MiB incompressible one is wider than the 1 MiB window and makes the
// reader widen it; the 12 MiB one is past 8 windows and goes through the streaming path.
const std::vector<std::pair<size_t, bool>> kSizes = {
    {0, true}, {100, true}, {1 << 20, true}, {3 << 20, false}, {7, false}, {12 << 20, false}, {200000, true}};

// gzip members and zstd frames hold any bytes; uncompressed files are tested with records below.
class MemberReaderTest : public ::testing::TestWithParam<Compression> {
 protected:
  Compression compression() const { return GetParam(); }
  MemberReaderOptions Options(MemberReaderOptions o = {}) const {
    o.compression = compression();
    return o;
  }
  // "the gzip member" or "the zstd frame"
  std::string Member() const { return compression() == Compression::kGzip ? "the gzip member" : "the zstd frame"; }
};

INSTANTIATE_TEST_SUITE_P(Compressed, MemberReaderTest, ::testing::Values(Compression::kGzip, Compression::kZstd),
                         [](const auto& p) { return std::string(CompressionName(p.param)); });

TEST_P(MemberReaderTest, ReadsEveryMemberWhateverTheReadSizes) {
  File f = MakeFile(compression(), kSizes);
  for (size_t max_read : {size_t{1} << 30, size_t{4093}, size_t{1} << 20}) {
    MemberReader r(std::make_unique<StringReader>(f.bytes, max_read), Options({.compute_sha256 = true}));
    std::vector<std::string> got;
    std::vector<uint64_t> valid;
    EXPECT_EQ(ReadAll(r, &got, &valid), MemberStatus::kEnd);
    EXPECT_EQ(got, f.members) << max_read;
    EXPECT_EQ(valid, f.ends);
    EXPECT_EQ(r.members(), kSizes.size());
    EXPECT_EQ(r.stored_bytes_read(), f.bytes.size());
    Sha256 whole;
    whole.Update(f.bytes);
    EXPECT_EQ(r.Sha256Hex(), whole.HexDigest());
  }
}

TEST_P(MemberReaderTest, AFileCutInsideAMemberReturnsTheMembersBeforeIt) {
  File f = MakeFile(compression(), kSizes);
  for (size_t m : {1u, 3u, 5u, 6u}) {
    for (uint64_t cut : {f.ends[m - 1] + 1, f.ends[m - 1] + 10, (f.ends[m - 1] + f.ends[m]) / 2, f.ends[m] - 1}) {
      MemberReader r(std::make_unique<StringReader>(f.bytes.substr(0, cut), 65536), Options());
      std::vector<std::string> got;
      std::vector<uint64_t> valid;
      EXPECT_EQ(ReadAll(r, &got, &valid), MemberStatus::kTruncated) << m << " " << cut;
      EXPECT_EQ(got, std::vector<std::string>(f.members.begin(), f.members.begin() + static_cast<long>(m)));
      EXPECT_EQ(r.valid_bytes(), f.ends[m - 1]);
      EXPECT_EQ(r.problem(), Member() + " starting at byte " + std::to_string(f.ends[m - 1]) +
                                 " is cut short (the file ends inside it)");
      ASSERT_TRUE(r.Drain().ok());
      EXPECT_EQ(r.stored_bytes_read(), cut);
    }
  }
}

TEST_P(MemberReaderTest, ACorruptMemberStopsTheReadThere) {
  File f = MakeFile(compression(), kSizes);
  for (size_t m : {2u, 3u, 5u}) {
    std::string bytes = f.bytes;
    bytes[(f.ends[m - 1] + f.ends[m]) / 2] ^= 0x5a;  // inside member m's data (or its CRC)
    MemberReader r(std::make_unique<StringReader>(bytes), Options());
    std::vector<std::string> got;
    std::vector<uint64_t> valid;
    EXPECT_EQ(ReadAll(r, &got, &valid), MemberStatus::kCorrupt) << m;
    EXPECT_EQ(got.size(), m);
    EXPECT_EQ(r.valid_bytes(), f.ends[m - 1]);
    EXPECT_EQ(r.problem().rfind(Member() + " starting at byte " + std::to_string(f.ends[m - 1]) + " is corrupt", 0),
              0u)
        << r.problem();
  }
  // Not compressed at all.
  MemberReader r(std::make_unique<StringReader>("definitely not compressed"), Options());
  std::string member;
  EXPECT_EQ(*r.NextMember(&member), MemberStatus::kCorrupt);
  EXPECT_EQ(r.valid_bytes(), 0u);
}

TEST_P(MemberReaderTest, AMemberLargerThanTheLimitIsRefused) {
  File f = MakeFile(compression(), {{1000, true}, {300000, true}});
  MemberReader r(std::make_unique<StringReader>(f.bytes), Options({.max_member_bytes = 200000}));
  std::vector<std::string> got;
  std::vector<uint64_t> valid;
  EXPECT_EQ(ReadAll(r, &got, &valid), MemberStatus::kCorrupt);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(r.problem(),
            Member() + " starting at byte " + std::to_string(f.ends[0]) + " decompresses to more than 200000 bytes");
}

TEST_P(MemberReaderTest, AnEmptyObjectEndsAtOnce) {
  MemberReader r(std::make_unique<StringReader>(""), Options());
  std::string member = "x";
  EXPECT_EQ(*r.NextMember(&member), MemberStatus::kEnd);
  EXPECT_EQ(r.members(), 0u);
}

// Uncompressed files: "members" are runs of whole records, as many as fit half the window.
std::string Records(const std::vector<size_t>& payload_sizes) {
  std::string out;
  uint64_t t = 1;
  for (size_t n : payload_sizes) {
    EXPECT_TRUE(AppendRecord({.arrival_unix_nano = t++, .payload = Data(n, true, 7)}, &out).ok());
  }
  return out;
}

TEST(PlainRecordsReaderTest, ReturnsWholeRecordsAndEveryByte) {
  // A 3 MiB record is larger than the 1 MiB window: it comes alone, in one piece.
  const std::string bytes = Records({10, 5000, 3 << 20, 0, 700000, 700000, 20});
  for (size_t max_read : {size_t{1} << 30, size_t{4093}}) {
    MemberReader r(std::make_unique<StringReader>(bytes, max_read),
                   {.compression = Compression::kNone, .read_buffer_bytes = 1 << 20});
    std::string all, member;
    uint64_t n = 0;
    while (*r.NextMember(&member) == MemberStatus::kMember) {
      ++n;
      std::string_view rest = member;
      while (!rest.empty()) {
        absl::StatusOr<RecordHeader> h = DecodeRecordHeader(rest);
        ASSERT_TRUE(h.ok()) << h.status();
        ASSERT_LE(h->record_size(), rest.size()) << "a member ends inside a record";
        rest.remove_prefix(h->record_size());
      }
      all += member;
      EXPECT_EQ(r.valid_bytes(), all.size());
    }
    EXPECT_EQ(all, bytes);
    EXPECT_GE(n, 3u);
    EXPECT_EQ(r.members(), n);
  }
}

TEST(PlainRecordsReaderTest, ACutRecordIsTruncationAndABadHeaderCorruption) {
  const std::string bytes = Records({100, 200, 300});
  const size_t second = kRecordHeaderSize + 100, third = second + kRecordHeaderSize + 200;
  for (size_t cut : {third + 1, third + 31, third + 40, bytes.size() - 1}) {
    MemberReader r(std::make_unique<StringReader>(bytes.substr(0, cut)), {.compression = Compression::kNone});
    std::string member;
    ASSERT_EQ(*r.NextMember(&member), MemberStatus::kMember);
    EXPECT_EQ(member, bytes.substr(0, third));
    EXPECT_EQ(*r.NextMember(&member), MemberStatus::kTruncated) << cut;
    EXPECT_EQ(r.valid_bytes(), third);
    EXPECT_EQ(r.problem(), "the record starting at byte " + std::to_string(third) +
                               " is cut short (the file ends inside it)");
  }
  std::string bad = bytes;
  bad[second + 1] = 'X';  // the second record's magic
  MemberReader r(std::make_unique<StringReader>(bad), {.compression = Compression::kNone});
  std::string member;
  EXPECT_EQ(*r.NextMember(&member), MemberStatus::kCorrupt);
  EXPECT_EQ(r.valid_bytes(), 0u);
  EXPECT_EQ(r.problem().rfind("the record starting at byte " + std::to_string(second) + " is corrupt: bad record magic",
                              0),
            0u)
      << r.problem();
}

}  // namespace
}  // namespace otelrr::session::internal
