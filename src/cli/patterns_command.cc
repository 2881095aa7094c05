// otelrr patterns: list the shipped seed patterns, print one, and check pattern files.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/io.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "generate/pattern.h"

namespace otelrr::cli {
namespace {

using generate::Pattern;

struct PatternsFlags {
  bool json = false;
  std::string name;
  std::vector<std::string> files;
};


std::string DescribePhases(const Pattern& p) {
  if (p.phases.empty()) return "one phase for the whole session";
  std::string out;
  double total = generate::TotalPhaseShare(p);
  for (const generate::Phase& phase : p.phases) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {:.0f}%", phase.name, 100 * phase.share / total);
    if (!phase.flags.empty()) out += fmt::format(" [{}]", fmt::join(phase.flags, ", "));
  }
  return out;
}

int RunList(const PatternsFlags& f) {
  std::vector<Pattern> patterns;
  for (std::string_view name : generate::BuiltinPatternNames()) {
    absl::StatusOr<Pattern> p = generate::BuiltinPattern(name);
    if (!p.ok()) return Fail(p.status());
    patterns.push_back(*std::move(p));
  }
  if (f.json) {
    JsonWriter w(true);
    w.BeginArray();
    for (const Pattern& p : patterns) generate::WritePatternJson(p, &w);
    w.EndArray();
    Print(w.str());
    Print("\n");
    return 0;
  }
  for (const Pattern& p : patterns) {
    std::vector<std::string> services;
    for (const generate::Service& s : p.services) services.push_back(s.name);
    Print(fmt::format("{}\n  {}\n  services ({}): {}\n  phases: {}\n", p.name, p.description, services.size(),
                      fmt::join(services, ", "), DescribePhases(p)));
  }
  Print("\nRun 'otelrr patterns show NAME' for a pattern's file.\n");
  return 0;
}

int RunShow(const PatternsFlags& f) {
  absl::StatusOr<std::string_view> text = generate::BuiltinPatternSource(f.name);
  if (!text.ok()) return Fail(text.status());
  Print(*text);
  return 0;
}

int RunCheck(const PatternsFlags& f) {
  struct Result {
    std::string file;
    std::vector<std::string> problems;
    std::string name;
  };
  std::vector<Result> results;
  for (const std::string& file : f.files) {
    Result r;
    r.file = file;
    absl::StatusOr<std::string> text = ReadInput(file);
    if (!text.ok()) {
      r.problems.push_back(fmt::format("{}: {}", file, text.status().message()));
    } else if (absl::StatusOr<Pattern> p = generate::ParsePattern(*text, file); p.ok()) {
      r.name = p->name;
    } else {
      std::string_view message(p.status().message().data(), p.status().message().size());
      while (!message.empty()) {
        std::size_t end = message.find('\n');
        r.problems.emplace_back(message.substr(0, end));
        message = end == std::string_view::npos ? std::string_view() : message.substr(end + 1);
      }
    }
    results.push_back(std::move(r));
  }
  std::size_t bad = 0;
  for (const Result& r : results) bad += r.problems.empty() ? 0 : 1;
  if (f.json) {
    JsonWriter w(true);
    w.BeginArray();
    for (const Result& r : results) {
      w.BeginObject();
      w.Field("file", r.file);
      w.Field("ok", r.problems.empty());
      if (r.problems.empty()) {
        w.Field("name", r.name);
      }
      w.Key("problems");
      w.BeginArray();
      for (const std::string& p : r.problems) w.String(p);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    Print(w.str());
    Print("\n");
    return bad == 0 ? 0 : 1;
  }
  for (const Result& r : results) {
    if (r.problems.empty()) {
      Print(fmt::format("{}: ok\n", r.file));
      continue;
    }
    for (const std::string& p : r.problems) std::fprintf(stderr, "%s\n", p.c_str());
  }
  if (bad > 0) {
    std::fflush(stdout);
    std::fprintf(stderr, "otelrr: %zu of %zu pattern file(s) have problems; the format is in docs/PATTERNS.md\n", bad,
                 results.size());
    return 1;
  }
  return 0;
}

}  // namespace

void AddPatternsCommand(CLI::App& app, Handler* handler) {
  auto f = std::make_shared<PatternsFlags>();
  CLI::App* patterns = app.add_subcommand("patterns", "List the seed patterns, print one, or check pattern files");
  patterns->add_flag("--json", f->json, "print the list as a JSON array");
  patterns->require_subcommand(0, 1);
  patterns->footer(R"(A pattern describes a system (services, operations, calls, latencies, errors) and its phases;
'otelrr seed --pattern NAME' generates telemetry from a shipped one, '--pattern-file FILE' from yours.
The format is in docs/PATTERNS.md.

Examples:
  otelrr patterns                              the shipped patterns, their services and phases
  otelrr patterns --json
  otelrr patterns show payment-failure > my-scenario.yaml
  otelrr patterns check my-scenario.yaml       every problem as file:line: message)");
  patterns->callback([handler, f, patterns] {
    if (patterns->get_subcommands().empty()) *handler = [f] { return RunList(*f); };
  });

  CLI::App* show = patterns->add_subcommand("show", "Print a shipped pattern's YAML file");
  show->add_option("NAME", f->name, "pattern name (see 'otelrr patterns')")->required();
  show->footer("Example:\n  otelrr patterns show training-phases");
  show->callback([handler, f] { *handler = [f] { return RunShow(*f); }; });

  CLI::App* check = patterns->add_subcommand("check", "Check pattern files and report every problem with its line");
  check->add_option("FILE", f->files, "pattern files (YAML)")->required();
  check->add_flag("--json", f->json, "print [{\"file\", \"ok\", \"name\", \"problems\"}] as JSON");
  check->footer(R"(Prints "FILE: ok" for each valid file. Otherwise prints every problem as "file:line: message"
on stderr and exits 1.

Examples:
  otelrr patterns check my-scenario.yaml
  otelrr patterns check patterns/*.yaml --json)");
  check->callback([handler, f] { *handler = [f] { return RunCheck(*f); }; });
}

}  // namespace otelrr::cli
