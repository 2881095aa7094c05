#include "net/grpc_runtime.h"

#include <grpc/grpc.h>

#include <atomic>
#include <thread>

namespace otelrr::net {
namespace {
std::atomic<bool> grpc_in_use{false};
}  // namespace

void NoteGrpcInUse() { grpc_in_use.store(true, std::memory_order_relaxed); }

bool AwaitGrpcShutdown(std::chrono::milliseconds limit) {
  if (!grpc_in_use.load(std::memory_order_relaxed)) return true;
  // grpc_is_initialized() reads the library's reference count under the lock its shutdown holds: it turns
  // false only once the last reference is gone and the clean-up (worker threads joined) has run.
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (grpc_is_initialized() != 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace otelrr::net
