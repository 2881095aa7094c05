#include "cli/seed_flags.h"

#include <charconv>

#include "cli/io.h"
#include "fmt/format.h"
#include "session/time_format.h"

namespace otelrr::cli {
namespace {

// The random seed of --seed: a decimal number from 0 to 2^64 - 1.
absl::StatusOr<uint64_t> ParseRandomSeed(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(fmt::format("--seed '{}' is not a whole number from 0 to 18446744073709551615", text));
  }
  if (ec == std::errc::result_out_of_range) {
    return absl::InvalidArgumentError(fmt::format("--seed {} is too large: the largest is 18446744073709551615", text));
  }
  return value;
}

}  // namespace

void AddGeneratorFlags(CLI::App* cmd, GeneratorFlags* f) {
  cmd->add_option("--pattern", f->pattern, "built-in pattern (default: basic-topology; see 'otelrr patterns')");
  cmd->add_option("--pattern-file", f->pattern_file, "a pattern file of your own (docs/PATTERNS.md); overrides --pattern");
  cmd->add_option("--duration", f->duration, "simulated seconds the session spans (default: 60)");
  cmd->add_option("--rate", f->rate, "traces per second (default: 10); rate × duration must be a whole number");
  cmd->add_option("--error-rate", f->error_rate, "fraction of traces with an error, 0 to 1 (default: 0.05)");
  cmd->add_option("--seed", f->seed,
                  "random seed, 0 to 18446744073709551615: the same seed gives the same session (default: drawn at "
                  "random, printed and recorded)");
  cmd->add_option("--start-time", f->start_time, "RFC 3339 time the data starts at (default: now)");
  cmd->add_option("--signals", f->signals, "signals to write (default: traces,metrics,logs)")->delimiter(',');
  cmd->add_option("--preset", f->preset, "quick (10 s) or basic (30 s) of basic-topology at 10 traces/s")
      ->check(CLI::IsMember({"quick", "basic"}));
}

void MarkGiven(const CLI::App& cmd, GeneratorFlags* f) {
  f->has_seed = cmd.count("--seed") > 0;
  f->duration_given = cmd.count("--duration") > 0;
  f->rate_given = cmd.count("--rate") > 0;
  f->pattern_given = cmd.count("--pattern") > 0;
}

absl::StatusOr<generate::SeedConfig> GeneratorConfig(const GeneratorFlags& f) {
  generate::SeedConfig config;
  config.pattern_name = f.pattern;
  config.duration_seconds = f.duration;
  config.traces_per_second = f.rate;
  config.error_rate = f.error_rate;
  if (!f.preset.empty()) {
    // --preset quick and basic (seed:quick and seed:basic of the original tool): basic-topology at 10 traces/s
    // for 10 s or 30 s; explicit flags win.
    if (!f.duration_given) config.duration_seconds = f.preset == "quick" ? 10 : 30;
    if (!f.rate_given) config.traces_per_second = 10;
    if (!f.pattern_given) config.pattern_name = "basic-topology";
  }
  if (f.has_seed) {
    absl::StatusOr<uint64_t> seed = ParseRandomSeed(f.seed);
    if (!seed.ok()) return seed.status();
    config.seed = *seed;
  }
  if (!f.start_time.empty()) {
    absl::StatusOr<uint64_t> t = session::ParseRfc3339(f.start_time);
    if (!t.ok()) {
      return absl::InvalidArgumentError(fmt::format("--start-time '{}': {}", f.start_time, std::string(t.status().message())));
    }
    config.start_time_unix_nano = *t;
  }
  if (!f.signals.empty()) {
    config.signals.clear();
    for (const std::string& name : f.signals) {
      otlp::Signal s;
      if (!otlp::ParseSignal(name, &s)) {
        return absl::InvalidArgumentError(fmt::format("--signals: '{}' is not traces, metrics or logs", name));
      }
      config.signals.push_back(s);
    }
  }
  if (!f.pattern_file.empty()) {
    absl::StatusOr<std::string> text = ReadInput(f.pattern_file);
    if (!text.ok()) return absl::FailedPreconditionError(text.status().message());
    absl::StatusOr<generate::Pattern> p = generate::ParsePattern(*text, f.pattern_file);
    if (!p.ok()) return absl::FailedPreconditionError(p.status().message());
    config.pattern = std::move(*p);
  }
  return config;
}

}  // namespace otelrr::cli
