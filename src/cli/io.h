// Reading and writing the CLI's inputs and outputs, "-" meaning standard input or output.
//
//   OutputFile out("session.jsonl");      // "" or "-": standard output
//   if (absl::Status s = out.Open(); !s.ok()) ...
//   out.Write(chunk); ...
//   absl::Status s = out.Commit();        // the file appears whole, or not at all
//
// A regular file is written to "<path>.tmp" and renamed over the path by Commit, so a reader never sees
// half a file and a failure leaves the old file as it was; devices and pipes (/dev/null, a fifo) are
// written in place, since renaming over them would replace them.
#ifndef OTELRR_CLI_IO_H_
#define OTELRR_CLI_IO_H_

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace otelrr::cli {

absl::StatusOr<std::string> ReadInput(const std::string& path);
// Writes `s` to standard output as it is.
void Print(std::string_view s);

class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {}
  // Without Commit, the temp file is removed and the path left as it was.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  absl::Status Open();
  absl::Status Write(std::string_view data);
  absl::Status Commit();
  // "standard output" or the path, for messages.
  std::string name() const;

 private:
  std::string path_;
  std::string tmp_;
  std::FILE* file_ = nullptr;
  bool in_place_ = false;
};

// Writes the whole of `data` to `path` as OutputFile does.
absl::Status WriteOutput(const std::string& path, std::string_view data);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_IO_H_
