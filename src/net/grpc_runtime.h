// The gRPC library's lifetime in a process that exits.
//
// gRPC shuts itself down when its last object is released, and that release can happen on one of its own
// threads (a call's completion queue is freed there after the channel is gone). The shutdown, which joins
// gRPC's worker threads, then runs on gRPC's side while the process is already leaving main(): the
// process ends with those threads still running, in the middle of a TLS handshake's clean-up, say. That
// loses nothing (the kernel frees everything), but the threads' OpenSSL state is then unreachable, which a
// leak checker rightly reports, and nothing of gRPC's own finishes. A command that used gRPC waits for the
// shutdown before it returns from main().
#pragma once

#include <chrono>

namespace otelrr::net {

// Called by whatever creates a gRPC object (channel or server), before creating it.
void NoteGrpcInUse();

// If this process used gRPC: waits until the library has shut down, at most `limit` (objects still alive
// keep it up). True when it is down or was never used.
bool AwaitGrpcShutdown(std::chrono::milliseconds limit);

}  // namespace otelrr::net
