// GzipStream: pieces in, one gzip member out, the same bytes once inflated.
#include "common/gzip.h"

#include <libdeflate.h>

#include <string>

#include <gtest/gtest.h>

namespace otelrr {
namespace {

// The one member `gz` holds, inflated; fails the test when it is not exactly one whole member.
std::string Inflate(const std::string& gz, size_t size) {
  std::string out(size, '\0');
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  size_t in_used = 0;
  size_t out_used = 0;
  const libdeflate_result r = libdeflate_gzip_decompress_ex(d, gz.data(), gz.size(), out.data(), out.size(), &in_used, &out_used);
  libdeflate_free_decompressor(d);
  EXPECT_EQ(r, LIBDEFLATE_SUCCESS);
  EXPECT_EQ(in_used, gz.size()) << "more than one member";
  out.resize(out_used);
  return out;
}

TEST(GzipStreamTest, PiecesBecomeOneMemberOfTheSameBytes) {
  std::string text;
  for (int i = 0; i < 200'000; ++i) text += "{\"line\":" + std::to_string(i * 7919 % 100'003) + "}\n";  // ~3 MB
  GzipStream z(1);
  std::string gz;
  for (size_t at = 0; at < text.size(); at += 100'000) {
    ASSERT_TRUE(z.Write(std::string_view(text).substr(at, 100'000), &gz).ok());
  }
  ASSERT_TRUE(z.Write("", &gz).ok());  // nothing, harmlessly
  ASSERT_TRUE(z.Finish(&gz).ok());
  EXPECT_LT(gz.size(), text.size() / 3);
  EXPECT_EQ(Inflate(gz, text.size() + 1), text);
}

TEST(GzipStreamTest, NothingWrittenIsAnEmptyMember) {
  GzipStream z(6);
  std::string gz;
  ASSERT_TRUE(z.Finish(&gz).ok());
  EXPECT_EQ(gz.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(Inflate(gz, 16), "");
}

TEST(GzipStreamTest, IncompressibleDataLargerThanTheBufferComesThrough) {
  std::string noise(5 << 20, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : noise) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  GzipStream z(1);
  std::string gz;
  ASSERT_TRUE(z.Write(noise, &gz).ok());
  ASSERT_TRUE(z.Finish(&gz).ok());
  EXPECT_EQ(Inflate(gz, noise.size() + 1), noise);
}

}  // namespace
}  // namespace otelrr
