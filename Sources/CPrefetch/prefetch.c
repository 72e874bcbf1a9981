// The target's only definitions are inline, in include/prefetch.h.
#include "prefetch.h"
