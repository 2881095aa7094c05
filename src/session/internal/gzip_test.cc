#include "session/internal/gzip.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

File MakeFile(const std::vector<std::pair<size_t, bool>>& sizes) {
  File f;
  GzipCompressor c(1);
  uint32_t seed = 1;
  for (auto [n, compressible] : sizes) {
    f.members.push_back(Data(n, compressible, seed++));
    EXPECT_TRUE(c.CompressMember(f.members.back(), &f.bytes).ok());
    f.ends.push_back(f.bytes.size());
  }
  return f;
}

// Reads members until something other than kMember; returns that status and the members read.
MemberStatus ReadAll(GzipMemberReader& r, std::vector<std::string>* got, std::vector<uint64_t>* valid) {
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

TEST(GzipMemberReaderTest, ReadsEveryMemberWhateverTheReadSizes) {
  File f = MakeFile(kSizes);
  for (size_t max_read : {size_t{1} << 30, size_t{4093}, size_t{1} << 20}) {
    GzipMemberReader r(std::make_unique<StringReader>(f.bytes, max_read), {.compute_sha256 = true});
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

TEST(GzipMemberReaderTest, AFileCutInsideAMemberReturnsTheMembersBeforeIt) {
  File f = MakeFile(kSizes);
  for (size_t m : {1u, 3u, 5u, 6u}) {
    for (uint64_t cut : {f.ends[m - 1] + 1, f.ends[m - 1] + 10, (f.ends[m - 1] + f.ends[m]) / 2, f.ends[m] - 1}) {
      GzipMemberReader r(std::make_unique<StringReader>(f.bytes.substr(0, cut), 65536), {});
      std::vector<std::string> got;
      std::vector<uint64_t> valid;
      EXPECT_EQ(ReadAll(r, &got, &valid), MemberStatus::kTruncated) << m << " " << cut;
      EXPECT_EQ(got, std::vector<std::string>(f.members.begin(), f.members.begin() + static_cast<long>(m)));
      EXPECT_EQ(r.valid_bytes(), f.ends[m - 1]);
      EXPECT_EQ(r.problem(), "the gzip member starting at byte " + std::to_string(f.ends[m - 1]) +
                                 " is cut short (the file ends inside it)");
      ASSERT_TRUE(r.Drain().ok());
      EXPECT_EQ(r.stored_bytes_read(), cut);
    }
  }
}

TEST(GzipMemberReaderTest, ACorruptMemberStopsTheReadThere) {
  File f = MakeFile(kSizes);
  for (size_t m : {2u, 3u, 5u}) {
    std::string bytes = f.bytes;
    bytes[(f.ends[m - 1] + f.ends[m]) / 2] ^= 0x5a;  // inside member m's data (or its CRC)
    GzipMemberReader r(std::make_unique<StringReader>(bytes), {});
    std::vector<std::string> got;
    std::vector<uint64_t> valid;
    EXPECT_EQ(ReadAll(r, &got, &valid), MemberStatus::kCorrupt) << m;
    EXPECT_EQ(got.size(), m);
    EXPECT_EQ(r.valid_bytes(), f.ends[m - 1]);
    EXPECT_EQ(r.problem().rfind("the gzip member starting at byte " + std::to_string(f.ends[m - 1]) + " is corrupt", 0),
              0u)
        << r.problem();
  }
  // Not gzip at all.
  GzipMemberReader r(std::make_unique<StringReader>("definitely not gzip"), {});
  std::string member;
  EXPECT_EQ(*r.NextMember(&member), MemberStatus::kCorrupt);
  EXPECT_EQ(r.valid_bytes(), 0u);
}

TEST(GzipMemberReaderTest, AMemberLargerThanTheLimitIsRefused) {
  File f = MakeFile({{1000, true}, {300000, true}});
  GzipMemberReader r(std::make_unique<StringReader>(f.bytes), {.max_member_bytes = 200000});
  std::vector<std::string> got;
  std::vector<uint64_t> valid;
  EXPECT_EQ(ReadAll(r, &got, &valid), MemberStatus::kCorrupt);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(r.problem(), "the gzip member starting at byte " + std::to_string(f.ends[0]) +
                             " decompresses to more than 200000 bytes");
}

TEST(GzipMemberReaderTest, AnEmptyObjectEndsAtOnce) {
  GzipMemberReader r(std::make_unique<StringReader>(""), {});
  std::string member = "x";
  EXPECT_EQ(*r.NextMember(&member), MemberStatus::kEnd);
  EXPECT_EQ(r.members(), 0u);
}

}  // namespace
}  // namespace otelrr::session::internal
