// Giving freed heap memory back to the system, for long-running processes.
//
// A capture's receiver threads allocate request bodies and its writer thread frees them. The C library's
// allocator keeps what a thread's arena held at its busiest moment, so a service's resident memory creeps
// up to the largest burst it ever queued, and stays there. A long-running capture calls this now and then
// (once a minute): free pages inside the heaps go back to the system, and resident memory follows what is
// in use. A no-op where the C library has no such call.
#pragma once

namespace otelrr {

void ReturnFreeMemoryToSystem();

}  // namespace otelrr
