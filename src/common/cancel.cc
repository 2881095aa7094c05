#include "common/cancel.h"

namespace otelrr {

void Cancellation::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  for (auto& fn : callbacks_) fn();
}

std::unique_ptr<Cancellation::Registration> Cancellation::OnCancel(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled()) fn();
  callbacks_.push_back(std::move(fn));
  return std::make_unique<Registration>(*this, std::prev(callbacks_.end()));
}

Cancellation::Registration::~Registration() {
  std::lock_guard<std::mutex> lock(owner_.mu_);
  owner_.callbacks_.erase(it_);
}

}  // namespace otelrr
