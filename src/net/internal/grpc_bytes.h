// Moving bytes between std::string and grpc::ByteBuffer, for the gRPC receiver and client.
#ifndef OTELRR_NET_INTERNAL_GRPC_BYTES_H_
#define OTELRR_NET_INTERNAL_GRPC_BYTES_H_

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <memory>
#include <string>
#include <vector>

namespace otelrr::net::internal {

// A buffer that owns `bytes` without copying them: the slice frees the string when gRPC is done.
inline grpc::ByteBuffer ByteBufferOf(std::string bytes) {
  if (bytes.empty()) {
    grpc::Slice empty;
    return grpc::ByteBuffer(&empty, 1);
  }
  auto owned = std::make_unique<std::string>(std::move(bytes));
  void* data = owned->data();
  size_t size = owned->size();
  grpc::Slice slice(data, size, [](void* p) { delete static_cast<std::string*>(p); }, owned.release());
  return grpc::ByteBuffer(&slice, 1);
}

// A buffer over shared bytes without copying them: the slice holds a reference until gRPC is done.
inline grpc::ByteBuffer ByteBufferOf(std::shared_ptr<const std::string> bytes) {
  if (bytes == nullptr || bytes->empty()) {
    grpc::Slice empty;
    return grpc::ByteBuffer(&empty, 1);
  }
  auto held = std::make_unique<std::shared_ptr<const std::string>>(std::move(bytes));
  // gRPC only reads a request's slices.
  void* data = const_cast<char*>((*held)->data());
  size_t size = (*held)->size();
  grpc::Slice slice(data, size, [](void* p) { delete static_cast<std::shared_ptr<const std::string>*>(p); },
                    held.release());
  return grpc::ByteBuffer(&slice, 1);
}

// The whole contents of `buffer` (decompressed, as gRPC delivers it) in one string.
inline std::string StringOf(const grpc::ByteBuffer& buffer) {
  std::string out;
  if (!buffer.Valid()) return out;
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return out;
  size_t total = 0;
  for (const grpc::Slice& s : slices) total += s.size();
  out.reserve(total);
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace otelrr::net::internal

#endif  // OTELRR_NET_INTERNAL_GRPC_BYTES_H_
