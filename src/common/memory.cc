#include "common/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace otelrr {

void ReturnFreeMemoryToSystem() {
#if defined(__GLIBC__)
  // Every arena, pages in the middle of a heap included (not only the top): a fraction of a millisecond per
  // MB of free heap.
  (void)malloc_trim(0);
#endif
}

}  // namespace otelrr
