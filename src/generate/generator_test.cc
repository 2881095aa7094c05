#include "generate/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "otlp/json.h"
#include "otlp/wire.h"
#include "session/session_store.h"
#include "store/local_store.h"
#include "store/testing/temp_dir.h"

// Fixtures name only the fields they care about (designated initialisers); the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace otelrr::generate {
namespace {

constexpr uint64_t kStart = 1'790'000'000'000'000'000;  // 2026-09-21T...Z
constexpr uint64_t kSecond = 1'000'000'000;

// ---- a small protobuf reader, independent of the encoder under test ----

struct Field {
  uint32_t number;
  uint32_t wire;
  uint64_t varint = 0;
  std::string_view bytes;
};

std::vector<Field> Fields(std::string_view msg) {
  std::vector<Field> out;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(msg.data());
  const uint8_t* end = p + msg.size();
  while (p < end) {
    uint64_t tag = 0;
    EXPECT_TRUE(otlp::ReadVarint(p, end, &tag));
    Field f{.number = static_cast<uint32_t>(tag >> 3), .wire = static_cast<uint32_t>(tag & 7)};
    if (f.wire == 0) {
      EXPECT_TRUE(otlp::ReadVarint(p, end, &f.varint));
    } else if (f.wire == 1) {
      f.varint = otlp::LoadLE64(p);
      p += 8;
    } else if (f.wire == 5) {
      f.varint = otlp::LoadLE32(p);
      p += 4;
    } else {
      uint64_t len = 0;
      EXPECT_TRUE(otlp::ReadVarint(p, end, &len));
      f.bytes = std::string_view(reinterpret_cast<const char*>(p), len);
      p += len;
    }
    out.push_back(f);
  }
  return out;
}

std::string Hex(std::string_view b) {
  std::string s;
  for (unsigned char c : b) s += fmt::format("{:02x}", c);
  return s;
}

// Attributes as strings ("42" for ints).
std::map<std::string, std::string> Attributes(const std::vector<Field>& fields, uint32_t number) {
  std::map<std::string, std::string> out;
  for (const Field& f : fields) {
    if (f.number != number) continue;
    std::string key, value;
    for (const Field& kv : Fields(f.bytes)) {
      if (kv.number == 1) key = std::string(kv.bytes);
      if (kv.number == 2) {
        for (const Field& any : Fields(kv.bytes)) {
          value = any.number == 1 ? std::string(any.bytes) : std::to_string(static_cast<int64_t>(any.varint));
        }
      }
    }
    out[key] = value;
  }
  return out;
}

struct Span {
  std::string service, instance, trace_id, span_id, parent, name;
  int kind = 0, status = 0;
  uint64_t start = 0, end = 0;
  std::map<std::string, std::string> attributes;
  std::vector<std::map<std::string, std::string>> exceptions;
};

struct Point {
  std::string service, instance, metric;
  std::map<std::string, std::string> attributes;
  uint64_t time = 0, start = 0, count = 0;
  double sum = 0;
  std::vector<uint64_t> buckets;
  std::vector<std::pair<std::string, std::string>> exemplars;  // trace id, span id
};

struct Log {
  std::string service, trace_id, span_id, body;
  int severity = 0;
  std::map<std::string, std::string> attributes;
};

double AsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

struct Decoded {
  std::vector<Span> spans;
  std::vector<Point> points;
  std::vector<Log> logs;
  std::map<otlp::Signal, std::vector<uint64_t>> arrivals;
  std::vector<uint64_t> metric_times;
  // Per trace request: its arrival, its spans and the latest end among them.
  struct TraceRequest {
    uint64_t arrival = 0;
    size_t spans = 0;
    uint64_t max_end = 0;
  };
  std::vector<TraceRequest> trace_requests;
};

void DecodeRequest(otlp::Signal signal, std::string_view payload, Decoded* d) {
  for (const Field& rs : Fields(payload)) {
    std::string service, instance;
    std::vector<Field> rfields = Fields(rs.bytes);
    for (const Field& f : rfields) {
      if (f.number != 1) continue;
      auto resource = Attributes(Fields(f.bytes), 1);
      service = resource["service.name"];
      instance = resource["service.instance.id"];
    }
    for (const Field& ss : rfields) {
      if (ss.number != 2) continue;
      for (const Field& item : Fields(ss.bytes)) {
        if (item.number != 2) continue;
        std::vector<Field> fs = Fields(item.bytes);
        if (signal == otlp::Signal::kTraces) {
          Span s{.service = service, .instance = instance};
          for (const Field& f : fs) {
            switch (f.number) {
              case 1: s.trace_id = Hex(f.bytes); break;
              case 2: s.span_id = Hex(f.bytes); break;
              case 4: s.parent = Hex(f.bytes); break;
              case 5: s.name = std::string(f.bytes); break;
              case 6: s.kind = static_cast<int>(f.varint); break;
              case 7: s.start = f.varint; break;
              case 8: s.end = f.varint; break;
              case 11: {
                std::vector<Field> ev = Fields(f.bytes);
                s.exceptions.push_back(Attributes(ev, 3));
                break;
              }
              case 15:
                for (const Field& st : Fields(f.bytes)) {
                  if (st.number == 3) s.status = static_cast<int>(st.varint);
                }
                break;
              default: break;
            }
          }
          s.attributes = Attributes(fs, 9);
          d->spans.push_back(std::move(s));
        } else if (signal == otlp::Signal::kLogs) {
          Log l{.service = service};
          for (const Field& f : fs) {
            if (f.number == 9) l.trace_id = Hex(f.bytes);
            if (f.number == 10) l.span_id = Hex(f.bytes);
            if (f.number == 2) l.severity = static_cast<int>(f.varint);
            if (f.number == 5) l.body = std::string(Fields(f.bytes)[0].bytes);
          }
          l.attributes = Attributes(fs, 6);
          d->logs.push_back(std::move(l));
        } else {
          std::string name;
          for (const Field& f : fs) {
            if (f.number == 1) name = std::string(f.bytes);
          }
          for (const Field& f : fs) {
            if (f.number != 7 && f.number != 9) continue;
            for (const Field& dp : Fields(f.bytes)) {
              if (dp.number != 1) continue;
              Point p{.service = service, .instance = instance, .metric = name};
              std::vector<Field> pf = Fields(dp.bytes);
              p.attributes = Attributes(pf, f.number == 7 ? 7 : 9);
              for (const Field& x : pf) {
                if (x.number == 2) p.start = x.varint;
                if (x.number == 3) p.time = x.varint;
                if (f.number == 7 && x.number == 6) p.count = x.varint;
                if (f.number == 9 && x.number == 4) p.count = x.varint;
                if (f.number == 9 && x.number == 5) p.sum = AsDouble(x.varint);
                if (f.number == 9 && x.number == 6) {
                  for (size_t i = 0; i < x.bytes.size(); i += 8) {
                    p.buckets.push_back(otlp::LoadLE64(reinterpret_cast<const uint8_t*>(x.bytes.data() + i)));
                  }
                }
                if (f.number == 9 && x.number == 8) {
                  std::string t, s;
                  for (const Field& e : Fields(x.bytes)) {
                    if (e.number == 5) t = Hex(e.bytes);
                    if (e.number == 4) s = Hex(e.bytes);
                  }
                  p.exemplars.emplace_back(t, s);
                }
              }
              d->points.push_back(std::move(p));
            }
          }
        }
      }
    }
  }
}

// ---- fixtures ----

// frontend (http) -> backend (grpc) -> postgres (x1..3) and, in parallel, payment (grpc, a leaf);
// frontend -> kafka orders -> worker process orders -> postgres.
Pattern ShopPattern() {
  Pattern p;
  p.name = "test-shop";
  p.services = {
      {.name = "frontend", .language = "nodejs", .instances = 2},
      {.name = "backend", .language = "go"},
      {.name = "postgres", .kind = ServiceKind::kDatabase, .system = "postgresql"},
      {.name = "payment", .language = "java"},
      {.name = "kafka", .kind = ServiceKind::kQueue, .system = "kafka"},
      {.name = "worker", .language = "python"},
  };
  Operation cart{.name = "GET /api/cart/{userId}", .service = 0, .protocol = Protocol::kHttp, .method = "GET",
                 .route = "/api/cart/{userId}", .latency = {1'000'000, 8'000'000}};
  cart.calls = {{.operation = 1}, {.operation = 4, .probability = 0.5}};
  Operation get_cart{.name = "GetCart", .service = 1, .protocol = Protocol::kGrpc, .method = "shop.CartService",
                     .route = "GetCart", .latency = {500'000, 4'000'000}};
  get_cart.calls = {{.operation = 2, .min_repeat = 1, .max_repeat = 3}, {.operation = 3, .parallel = true}};
  Operation select{.name = "SELECT carts", .service = 2, .protocol = Protocol::kDatabase, .method = "SELECT",
                   .route = "", .query = "SELECT * FROM carts WHERE user_id = $1", .collection = "carts",
                   .latency = {2'000'000, 20'000'000}};
  Operation charge{.name = "Charge", .service = 3, .protocol = Protocol::kGrpc, .method = "shop.PaymentService",
                   .route = "Charge", .latency = {3'000'000, 30'000'000}};
  charge.error = {.type = "PaymentDeclinedException", .message = "card declined", .http_status = 500, .grpc_status = 9};
  Operation topic{.name = "orders", .service = 4, .protocol = Protocol::kMessaging, .method = "publish", .route = "orders",
                  .latency = {500'000, 5'000'000}};
  topic.calls = {{.operation = 5}};
  Operation process{.name = "process orders", .service = 5, .protocol = Protocol::kMessaging, .method = "process",
                    .route = "orders", .latency = {2'000'000, 10'000'000}};
  process.calls = {{.operation = 2}};
  p.operations = {cart, get_cart, select, charge, topic, process};
  p.entry_points = {{.operation = 0, .weight = 1}};
  p.metrics_interval_ns = 5 * kSecond;
  return p;
}

struct Generated {
  store::testing::TempDir dir;
  std::unique_ptr<store::ObjectStore> store;
  std::unique_ptr<session::SessionStore> sessions;
  SeedResult result;
  Decoded decoded;
};

std::unique_ptr<Generated> Generate(SeedConfig config) {
  auto g = std::make_unique<Generated>();
  auto store = store::LocalStore::Open({.root = g->dir.path()});
  EXPECT_TRUE(store.ok()) << store.status();
  g->store = std::move(*store);
  g->sessions = std::make_unique<session::SessionStore>(*g->store);
  if (config.session_id.empty()) config.session_id = "seed-test";
  if (!config.start_time_unix_nano) config.start_time_unix_nano = kStart;
  if (!config.seed) config.seed = 7;
  SeedGenerator generator(*g->sessions);
  absl::StatusOr<SeedResult> r = generator.GenerateSeed(config);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return g;
  g->result = *r;
  auto reader = g->sessions->OpenReader(r->session_id);
  EXPECT_TRUE(reader.ok()) << reader.status();
  otlp::JsonCodec codec;
  session::Record rec;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&rec);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    EXPECT_EQ(rec.transport, session::Transport::kGenerated);
    EXPECT_TRUE(otlp::Summarize(rec.signal, rec.payload).ok());
    std::string json;
    EXPECT_TRUE(codec.ProtoToJson(rec.signal, rec.payload, &json).ok());
    g->decoded.arrivals[rec.signal].push_back(rec.arrival_unix_nano);
    size_t before = g->decoded.spans.size();
    DecodeRequest(rec.signal, rec.payload, &g->decoded);
    if (rec.signal == otlp::Signal::kTraces) {
      Decoded::TraceRequest t{.arrival = rec.arrival_unix_nano, .spans = g->decoded.spans.size() - before};
      for (size_t i = before; i < g->decoded.spans.size(); ++i) t.max_end = std::max(t.max_end, g->decoded.spans[i].end);
      g->decoded.trace_requests.push_back(t);
    }
  }
  return g;
}

SeedConfig ShopConfig(double duration, double rate, double error_rate) {
  return SeedConfig{.pattern = ShopPattern(), .duration_seconds = duration, .traces_per_second = rate,
                    .error_rate = error_rate};
}

std::map<std::string, const Span*> ById(const Decoded& d) {
  std::map<std::string, const Span*> out;
  for (const Span& s : d.spans) out[s.trace_id + s.span_id] = &s;
  return out;
}

// ---- tests ----

TEST(ValidateSeedConfig, RejectsBadValuesNamingThem) {
  auto message = [](SeedConfig c) { return std::string(ValidateSeedConfig(c).message()); };
  SeedConfig ok = ShopConfig(30, 10, 0.05);
  EXPECT_TRUE(ValidateSeedConfig(ok).ok());
  SeedConfig c = ok;
  c.traces_per_second = -1;
  EXPECT_NE(message(c).find("rate -1"), std::string::npos) << message(c);
  c = ok;
  c.traces_per_second = std::nan("");
  EXPECT_NE(message(c).find("rate nan"), std::string::npos) << message(c);
  c = ok;
  c.duration_seconds = 0;
  EXPECT_NE(message(c).find("duration 0"), std::string::npos) << message(c);
  c = ok;
  c.error_rate = 1.5;
  EXPECT_NE(message(c).find("error rate 1.5"), std::string::npos) << message(c);
  c = ok;
  c.traces_per_second = 0.7;
  c.duration_seconds = 3;
  EXPECT_NE(message(c).find("whole number"), std::string::npos) << message(c);
  c = ok;
  c.traces_per_second = 1e6;
  c.duration_seconds = 2e6;
  EXPECT_FALSE(ValidateSeedConfig(c).ok());
  c = ok;
  c.retention_days = 0;
  EXPECT_EQ(message(c), "a retention of 0 days is not allowed: keep a session 1 to 36500 days");
  c = ok;
  c.traces_per_second = 0.1;  // 0.1 × 30 is 3.0000000000000004: still 3 traces
  EXPECT_TRUE(ValidateSeedConfig(c).ok()) << message(c);
}

TEST(SeedGenerator, WritesExactlyRateTimesDurationTraces) {
  auto g = Generate(ShopConfig(30, 10, 0.05));
  std::set<std::string> ids;
  for (const Span& s : g->decoded.spans) ids.insert(s.trace_id);
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_EQ(g->result.traces, 300u);
  EXPECT_EQ(g->result.spans, g->decoded.spans.size());
  EXPECT_EQ(g->result.log_records, g->decoded.logs.size());
  absl::StatusOr<session::SessionMetadata> m = g->sessions->Load("seed-test");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->counts.traces, 300u);
  EXPECT_EQ(m->session_type, session::SessionType::kSeed);
  EXPECT_NE(m->generator_json.find("\"seed\":7"), std::string::npos) << m->generator_json;
  absl::StatusOr<session::VerifyReport> v = g->sessions->Verify("seed-test");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems[0]);
  // Roots spread over the window; arrivals never go back in time.
  uint64_t first_root = UINT64_MAX, last_root = 0;
  for (const Span& s : g->decoded.spans) {
    if (!s.parent.empty()) continue;
    first_root = std::min(first_root, s.start);
    last_root = std::max(last_root, s.start);
  }
  EXPECT_GE(first_root, kStart);
  EXPECT_LT(first_root, kStart + kSecond / 5);
  EXPECT_LT(last_root, kStart + 30 * kSecond);
  EXPECT_GT(last_root, kStart + 29 * kSecond);
  for (auto& [signal, arrivals] : g->decoded.arrivals) EXPECT_TRUE(std::is_sorted(arrivals.begin(), arrivals.end()));
}

TEST(SeedGenerator, FullBatchesLeaveWhenTheirLastSpanHasEndedNotAtTheEndOfTheSecond) {
  // ~1,800 spans a second: each second fills several batches of 512.
  auto g = Generate(ShopConfig(4, 400, 0));
  size_t full = 0, inside_the_second = 0;
  for (const Decoded::TraceRequest& t : g->decoded.trace_requests) {
    EXPECT_GE(t.arrival, t.max_end);  // nothing leaves before it ended
    if (t.spans >= 512) {
      ++full;
      if ((t.arrival - kStart) % kSecond != 0) ++inside_the_second;
    }
  }
  EXPECT_GE(full, 8u);
  // A full batch leaves when its last span ends (well inside its second), not at the second's end.
  EXPECT_EQ(inside_the_second, full);
  auto& arrivals = g->decoded.arrivals[otlp::Signal::kTraces];
  EXPECT_TRUE(std::is_sorted(arrivals.begin(), arrivals.end()));
}

TEST(SeedGenerator, SameSeedGivesByteIdenticalFiles) {
  auto a = Generate(ShopConfig(20, 50, 0.1));
  auto b = Generate(ShopConfig(20, 50, 0.1));
  auto list = [](Generated& g) {
    std::map<std::string, std::string> files;
    auto objects = g.store->List("sessions/seed-test/raw/");
    EXPECT_TRUE(objects.ok());
    for (const auto& o : *objects) files[o.key] = *g.store->ReadAll(o.key);
    return files;
  };
  auto fa = list(*a), fb = list(*b);
  EXPECT_EQ(fa.size(), 3u);
  EXPECT_TRUE(fa == fb);
  // Compressing inline instead of beside the encoder changes nothing either.
  SeedConfig inline_config = ShopConfig(20, 50, 0.1);
  inline_config.writer.compression_threads = 0;
  auto d = Generate(inline_config);
  EXPECT_TRUE(list(*d) == fa);
  SeedConfig other = ShopConfig(20, 50, 0.1);
  other.seed = 8;
  auto c = Generate(other);
  EXPECT_FALSE(list(*c) == fa);
}

TEST(SeedGenerator, ErrorRateIsTheFractionOfFailedTraces) {
  auto g = Generate(ShopConfig(40, 100, 0.2));  // 4000 traces
  std::set<std::string> all, failed;
  for (const Span& s : g->decoded.spans) {
    all.insert(s.trace_id);
    if (s.status == 2) failed.insert(s.trace_id);
  }
  ASSERT_EQ(all.size(), 4000u);
  double rate = static_cast<double>(failed.size()) / 4000.0;
  double sigma = std::sqrt(0.2 * 0.8 / 4000.0);
  EXPECT_NEAR(rate, 0.2, 4 * sigma);
  EXPECT_EQ(g->result.error_traces, failed.size());
}

TEST(SeedGenerator, SpansFormAWellShapedTree) {
  auto g = Generate(ShopConfig(30, 20, 0.3));
  auto by_id = ById(g->decoded);
  std::map<std::string, int> server_children;  // client span -> SERVER children in the callee
  for (const Span& s : g->decoded.spans) {
    EXPECT_LT(s.start, s.end);
    if (s.parent.empty()) {
      EXPECT_EQ(s.kind, 2) << s.name;
      EXPECT_EQ(s.service, "frontend");
      continue;
    }
    auto it = by_id.find(s.trace_id + s.parent);
    ASSERT_NE(it, by_id.end()) << "orphan " << s.name;
    const Span& parent = *it->second;
    if (s.kind == 5) {  // CONSUMER: after its PRODUCER
      EXPECT_EQ(parent.kind, 4);
      EXPECT_GE(s.start, parent.end);
      EXPECT_EQ(s.attributes.at("messaging.operation.type"), "process");
      continue;
    }
    EXPECT_GE(s.start, parent.start) << s.name;
    EXPECT_LE(s.end, parent.end) << s.name;
    if (s.kind == 2) {
      EXPECT_EQ(parent.kind, 3);
      EXPECT_NE(parent.service, s.service);
      EXPECT_GT(s.start, parent.start);  // network time
      EXPECT_LT(s.end, parent.end);
      ++server_children[s.trace_id + s.parent];
    }
  }
  for (const Span& s : g->decoded.spans) {
    if (s.kind != 3) continue;
    if (s.attributes.contains("db.system.name")) {
      EXPECT_EQ(s.attributes.at("db.system.name"), "postgresql");
      EXPECT_EQ(s.attributes.at("db.query.text"), "SELECT * FROM carts WHERE user_id = $1");
      EXPECT_EQ(server_children[s.trace_id + s.span_id], 0);
    } else {
      EXPECT_EQ(server_children[s.trace_id + s.span_id], 1) << s.name;
      EXPECT_TRUE(s.attributes.contains("server.address"));
    }
    if (s.attributes.contains("rpc.system")) {
      EXPECT_EQ(s.attributes.at("rpc.system"), "grpc");
      EXPECT_TRUE(s.attributes.contains("rpc.grpc.status_code"));
    }
  }
  const Span* root = nullptr;
  for (const Span& s : g->decoded.spans) {
    if (s.parent.empty()) root = &s;
  }
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->attributes.at("http.request.method"), "GET");
  EXPECT_EQ(root->attributes.at("http.route"), "/api/cart/{userId}");
  EXPECT_TRUE(root->attributes.at("url.path").starts_with("/api/cart/"));
}

TEST(SeedGenerator, FailuresPropagateToTheRoot) {
  SeedConfig config = ShopConfig(20, 20, 1.0);
  config.pattern->error_candidates = {3};  // payment Charge
  auto g = Generate(config);
  auto by_id = ById(g->decoded);
  int origins = 0;
  for (const Span& s : g->decoded.spans) {
    if (s.exceptions.empty()) continue;
    ++origins;
    EXPECT_EQ(s.service, "payment");
    EXPECT_EQ(s.kind, 2);
    EXPECT_EQ(s.status, 2);
    EXPECT_EQ(s.attributes.at("rpc.grpc.status_code"), "9");
    EXPECT_EQ(s.exceptions[0].at("exception.type"), "PaymentDeclinedException");
    EXPECT_EQ(s.exceptions[0].at("exception.message"), "card declined");
    EXPECT_NE(s.exceptions[0].at("exception.stacktrace").find("at com.example.payment"), std::string::npos);
    // Every span on the way up failed too; the root answers 500.
    const Span* cur = &s;
    while (!cur->parent.empty()) {
      cur = by_id.at(cur->trace_id + cur->parent);
      EXPECT_EQ(cur->status, 2) << cur->name;
    }
    EXPECT_EQ(cur->attributes.at("http.response.status_code"), "500");
  }
  EXPECT_EQ(origins, 400);
  // Each failure has an ERROR log with the exception, carrying the failing span's ids.
  int error_logs = 0;
  for (const Log& l : g->decoded.logs) {
    if (l.severity != 17) continue;
    ++error_logs;
    ASSERT_TRUE(by_id.contains(l.trace_id + l.span_id));
    EXPECT_EQ(l.attributes.at("exception.type"), "PaymentDeclinedException");
  }
  EXPECT_EQ(error_logs, 400);
}

TEST(SeedGenerator, MetricsAggregateExactlyTheServerSpans) {
  auto g = Generate(ShopConfig(30, 20, 0.2));
  auto by_id = ById(g->decoded);
  // Expected totals per (service, metric series).
  std::map<std::string, uint64_t> count;
  std::map<std::string, double> sum;
  for (const Span& s : g->decoded.spans) {
    if (s.kind != 2) continue;
    std::string code = s.attributes.contains("http.response.status_code") ? s.attributes.at("http.response.status_code")
                                                                          : s.attributes.at("rpc.grpc.status_code");
    std::string key = fmt::format("{}|{}|{}|{}", s.service, s.instance, s.name, code);
    count[key] += 1;
    sum[key] += static_cast<double>(s.end - s.start) / 1e9;
  }
  // The last export of each series holds the totals.
  std::map<std::string, const Point*> last_hist, last_count;
  uint64_t max_time = 0;
  for (const Point& p : g->decoded.points) {
    EXPECT_EQ(p.start, kStart);
    max_time = std::max(max_time, p.time);
    std::string name = p.attributes.contains("http.route")
                           ? fmt::format("GET {}", p.attributes.at("http.route"))
                           : fmt::format("{}/{}", p.attributes.at("rpc.service"), p.attributes.at("rpc.method"));
    std::string code = p.attributes.contains("http.response.status_code") ? p.attributes.at("http.response.status_code")
                                                                          : p.attributes.at("rpc.grpc.status_code");
    std::string key = fmt::format("{}|{}|{}|{}", p.service, p.instance, name, code);
    auto& slot = p.metric.ends_with("duration") ? last_hist[key] : last_count[key];
    if (slot == nullptr || slot->time <= p.time) slot = &p;
    for (const auto& [t, s] : p.exemplars) EXPECT_TRUE(by_id.contains(t + s)) << "exemplar of a missing span";
    if (!p.buckets.empty()) {
      uint64_t total = 0;
      for (uint64_t b : p.buckets) total += b;
      EXPECT_EQ(total, p.count);
      EXPECT_EQ(p.buckets.size(), 15u);
    }
  }
  std::map<std::string, uint64_t> got_count, got_hist_count;
  std::map<std::string, double> got_sum;
  for (auto& [k, p] : last_count) got_count[k] = p->count;
  for (auto& [k, p] : last_hist) {
    got_hist_count[k] = p->count;
    got_sum[k] = p->sum;
  }
  EXPECT_EQ(got_count, count);
  EXPECT_EQ(got_hist_count, count);
  for (auto& [k, v] : sum) EXPECT_NEAR(got_sum[k], v, 1e-9 * std::max(1.0, v)) << k;
  // Exports every 5 s of simulated time.
  std::set<uint64_t> times;
  for (const Point& p : g->decoded.points) times.insert(p.time);
  EXPECT_TRUE(times.contains(kStart + 5 * kSecond));
  EXPECT_TRUE(times.contains(kStart + 30 * kSecond));
}

TEST(SeedGenerator, LogsCarryTheIdsOfTheirSpans) {
  auto g = Generate(ShopConfig(10, 20, 0.1));
  auto by_id = ById(g->decoded);
  size_t server_spans = 0, errors = 0;
  for (const Span& s : g->decoded.spans) {
    if (s.kind == 2) ++server_spans;
    if (!s.exceptions.empty()) ++errors;
  }
  EXPECT_EQ(g->decoded.logs.size(), server_spans + errors);
  for (const Log& l : g->decoded.logs) {
    auto it = by_id.find(l.trace_id + l.span_id);
    ASSERT_NE(it, by_id.end());
    if (l.severity == 9 && it->second->name.starts_with("GET ")) {
      EXPECT_TRUE(l.body.starts_with("GET /api/cart/")) << l.body;
      EXPECT_TRUE(l.body.ends_with("ms")) << l.body;
    }
  }
}

TEST(SeedGenerator, PhasesSplitTheDurationAndApplyTheirRates) {
  SeedConfig config = ShopConfig(30, 100, 0.0);
  Pattern& p = *config.pattern;
  p.phases = {{.name = "startup", .annotation_key = "test.phase.startup"},
              {.name = "failure", .annotation_key = "test.phase.failure", .flags = {"paymentServiceFailure"},
               .error_rates = {{3, 0.75}}, .overrides_error_rate = true},
              {.name = "rampdown", .annotation_key = "test.phase.rampdown"}};
  auto g = Generate(config);
  ASSERT_EQ(g->result.phases.size(), 3u);
  uint64_t total = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(g->result.phases[i].start_unix_nano, kStart + static_cast<uint64_t>(i) * 10 * kSecond);
    EXPECT_EQ(g->result.phases[i].end_unix_nano, kStart + static_cast<uint64_t>(i + 1) * 10 * kSecond);
    // Arrivals are Poisson-like within blocks of 64 traces, so a phase holds its share give or take the
    // part of one block that straddles its boundaries.
    EXPECT_NEAR(static_cast<double>(g->result.phases[i].traces), 1000, 64);
    total += g->result.phases[i].traces;
  }
  EXPECT_EQ(total, 3000u);
  EXPECT_EQ(g->result.phases[0].error_traces, 0u);
  EXPECT_EQ(g->result.phases[2].error_traces, 0u);
  // ~75% of the payment calls fail in the failure phase.
  auto by_id = ById(g->decoded);
  int calls = 0, failed = 0;
  for (const Span& s : g->decoded.spans) {
    if (s.service != "payment") continue;
    const Span* root = &s;
    while (!root->parent.empty()) root = by_id.at(root->trace_id + root->parent);
    bool in_failure = root->start >= kStart + 10 * kSecond && root->start < kStart + 20 * kSecond;
    if (!in_failure) {
      EXPECT_NE(s.status, 2);
      continue;
    }
    ++calls;
    failed += s.status == 2;
  }
  // One payment call per trace: as many calls as the failure phase has traces.
  ASSERT_EQ(static_cast<uint64_t>(calls), g->result.phases[1].traces);
  EXPECT_NEAR(failed / static_cast<double>(calls), 0.75, 4 * std::sqrt(0.75 * 0.25 / calls));
  // Metadata and annotations.
  absl::StatusOr<session::SessionMetadata> m = g->sessions->Load("seed-test");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->phases.size(), 3u);
  EXPECT_EQ(m->phases[1].name, "failure");
  EXPECT_EQ(m->phases[1].flags, std::vector<std::string>{"paymentServiceFailure"});
  EXPECT_EQ(m->enabled_flags, std::vector<std::string>{"paymentServiceFailure"});
  absl::StatusOr<std::string> annotations = g->store->ReadAll("sessions/seed-test/annotations.jsonl");
  ASSERT_TRUE(annotations.ok());
  EXPECT_EQ(std::count(annotations->begin(), annotations->end(), '\n'), 3);
  EXPECT_NE(annotations->find("\"annotationKey\":\"test.phase.failure\""), std::string::npos) << *annotations;
  EXPECT_NE(annotations->find(R"(\"sessionId\":\"seed-test\",\"phase\":\"failure\")"), std::string::npos) << *annotations;
  EXPECT_NE(annotations->find("\"timeRangeStart\":\""), std::string::npos);
  absl::StatusOr<session::VerifyReport> v = g->sessions->Verify("seed-test");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok);
}

TEST(SeedGenerator, RetentionDaysCountFromWhenTheSeedIsMadeNotFromItsSimulatedStart) {
  SimulatedClock clock(2'000'000'000'123'456'789ull);
  SeedConfig config = ShopConfig(10, 10, 0.1);
  config.retention_days = 7;
  config.clock = &clock;
  auto g = Generate(config);
  absl::StatusOr<session::SessionMetadata> m = g->sessions->Load("seed-test");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->start_time_unix_nano, kStart);
  EXPECT_EQ(m->expires_at_unix_nano, 2'000'000'000'123'000'000ull + 7 * 24 * 3600 * 1'000'000'000ull);
}

TEST(SeedGenerator, OnlyTheRequestedSignalsAreWritten) {
  SeedConfig config = ShopConfig(10, 10, 0.1);
  config.signals = {otlp::Signal::kMetrics};
  auto g = Generate(config);
  EXPECT_TRUE(g->decoded.spans.empty());
  EXPECT_TRUE(g->decoded.logs.empty());
  EXPECT_FALSE(g->decoded.points.empty());
  EXPECT_EQ(g->result.data_points, g->decoded.points.size());
}

// Arrivals bunch up as in real load: the gaps between traces are exponential-like (coefficient of
// variation near 1; evenly jittered arrivals would give about 0.4), while the count is exact.
TEST(SeedGenerator, TracesArriveLikeRealLoad) {
  auto g = Generate(ShopConfig(100, 50, 0));
  std::vector<uint64_t> starts;
  for (const Span& s : g->decoded.spans) {
    if (s.parent.empty()) starts.push_back(s.start);
  }
  ASSERT_EQ(starts.size(), 5000u);
  std::sort(starts.begin(), starts.end());
  double sum = 0, sum_sq = 0;
  for (size_t i = 1; i < starts.size(); ++i) {
    double gap = static_cast<double>(starts[i] - starts[i - 1]);
    sum += gap;
    sum_sq += gap * gap;
  }
  double n = static_cast<double>(starts.size() - 1);
  double mean = sum / n;
  double cv = std::sqrt(sum_sq / n - mean * mean) / mean;
  EXPECT_NEAR(mean, 20e6, 0.5e6);  // 50 traces/s: 20 ms apart on average
  EXPECT_GT(cv, 0.85);
  EXPECT_LT(cv, 1.15);
}

// Without spans the generator still counts traces itself (with each trace's first log record), so the
// writer keeps no trace-id set; the count must equal what verify recomputes from the bytes.
TEST(SeedGenerator, LogsWithoutSpansCountTracesExactly) {
  SeedConfig config = ShopConfig(20, 10, 0.2);
  config.signals = {otlp::Signal::kLogs, otlp::Signal::kMetrics};
  auto g = Generate(config);
  EXPECT_TRUE(g->decoded.spans.empty());
  EXPECT_FALSE(g->decoded.logs.empty());
  absl::StatusOr<session::SessionMetadata> m = g->sessions->Load(g->result.session_id);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->counts.traces, 200u);
  absl::StatusOr<session::VerifyReport> v = g->sessions->Verify(g->result.session_id);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems[0]);
  EXPECT_EQ(v->counts.traces, 200u);
}

}  // namespace
}  // namespace otelrr::generate
