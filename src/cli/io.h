// Reading and writing the CLI's inputs and outputs, "-" meaning standard input or output.
#ifndef OTELRR_CLI_IO_H_
#define OTELRR_CLI_IO_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace otelrr::cli {

absl::StatusOr<std::string> ReadInput(const std::string& path);
// Writes the whole of `data`; files are replaced atomically (temp file and rename).
absl::Status WriteOutput(const std::string& path, std::string_view data);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_IO_H_
