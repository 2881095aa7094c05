// How `otelrr replay` and `otelrr seed --live` talk about a replay: failed attempts and a progress line
// on stderr as they happen, the final report on stdout (text or JSON), and an exit code that tells the
// truth (commands.h).
//
//   ReplayConsole console("replay", json);
//   console.Attach(&config);                           // progress and on_error
//   absl::StatusOr<ReplayReport> r = RunReplay(sessions, config);
//   return console.Finish(*r, stop.signal());          // prints; 0, 1 or 130
#ifndef OTELRR_CLI_REPLAY_OUTPUT_H_
#define OTELRR_CLI_REPLAY_OUTPUT_H_

#include <map>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "replay/replay.h"

namespace otelrr::cli {

class ReplayConsole {
 public:
  ReplayConsole(std::string who, bool json) : who_(std::move(who)), json_(json) {}

  // Sets config->progress and config->on_error; the console must outlive the replay.
  void Attach(replay::ReplayConfig* config);

  // The exit code of a replay that ended with `report`: 130 when `signal` stopped it, 1 when
  // DeliveryStatus says something went wrong, else 0.
  static int ExitCode(const replay::ReplayReport& report, int signal);
  // Prints the final report (text, or one JSON object) and returns ExitCode.
  int Finish(const replay::ReplayReport& report, int signal);
  // The report's JSON members plus "ok", "error" and "stoppedBy", into the object `w` has open.
  static void WriteJson(const replay::ReplayReport& report, int signal, JsonWriter* w);
  // The text lines, each starting with three spaces (after a headline the caller prints).
  static std::string Details(const replay::ReplayReport& report);
  // Prints the reports of several replays run as one (`replay --session a,b`) and their total
  // (replay::SumReports, with `elapsed_seconds` of the whole run): in text each report as Finish prints
  // it, then the total; in JSON one object {"ok", "error", "stoppedBy", "mode", "sessions": [each
  // report as Finish writes it], "total": {...}}. Returns 130 when `signal` stopped them, 1 when any
  // replay went wrong, else 0.
  static int FinishSeveral(const std::vector<replay::ReplayReport>& reports, double elapsed_seconds, bool sequential,
                           int signal, bool json);

 private:
  static std::string Headline(const replay::ReplayReport& report, int signal);
  void Progress(const replay::ReplayReport& report);
  void Error(const std::string& message);

  const std::string who_;
  const bool json_;
  std::map<std::string, uint64_t> errors_;  // message -> times seen since it was last printed
};

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_REPLAY_OUTPUT_H_
