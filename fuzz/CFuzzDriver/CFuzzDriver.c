// Only the header matters: LLVMFuzzerRunDriver is defined by the libFuzzer runtime that -sanitize=fuzzer links.
#include "CFuzzDriver.h"
