#include "common/json_writer.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace otelrr {
namespace {

TEST(JsonWriterTest, WritesCompactObjectsAndArrays) {
  JsonWriter w;
  w.BeginObject();
  w.Key("a");
  w.Int(-3);
  w.Key("b");
  w.BeginArray();
  w.Uint(18446744073709551615u);
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  w.Key("c");
  w.String("x");
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"a":-3,"b":[18446744073709551615,true,null,{}],"c":"x"})");
}

TEST(JsonWriterTest, PrettyPrintsWithTwoSpaceIndent) {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(1);
  w.Int(2);
  w.EndArray();
  w.Key("e");
  w.BeginArray();
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(w.str(), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": []\n}");
}

TEST(JsonWriterTest, EscapesControlCharactersAndQuotes) {
  std::string out;
  JsonWriter::AppendQuoted(&out, std::string_view("a\"b\\c\n\t\x01\x7f", 9));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\x7f\"");
}

TEST(JsonWriterTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  std::string out;
  JsonWriter::AppendQuoted(&out, "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(out, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  out.clear();
  // A lone continuation byte, a truncated sequence, an overlong encoding and an encoded surrogate.
  JsonWriter::AppendQuoted(&out, "a\x80" "b\xc3" "c\xc0\xaf" "d\xed\xa0\x80");
  EXPECT_EQ(out, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST(JsonWriterTest, DoublesRoundTripAndSpecialValuesAreStrings) {
  JsonWriter w;
  w.BeginArray();
  w.Double(0.1);
  w.Double(1e300);
  w.Double(-0.0);
  w.Double(18446744073709551616.0);  // 2^64: as digits, an integer no 64-bit parser takes
  w.Double(-2.678140082510949e20);
  w.Double(123456789012345.0);
  w.Double(std::numeric_limits<double>::quiet_NaN());
  w.Double(std::numeric_limits<double>::infinity());
  w.Double(-std::numeric_limits<double>::infinity());
  w.EndArray();
  EXPECT_EQ(w.str(),
            R"([0.1,1e+300,-0.0,1.8446744073709552e+19,-2.678140082510949e+20,123456789012345,"NaN","Infinity","-Infinity"])");
}

}  // namespace
}  // namespace otelrr
