// OpenBLAS's cblas; the include path comes from pkg-config (openblas).
#include <cblas.h>
// Thread control, declared by OpenBLAS's cblas.h; repeated here so the module
// documents what Persephone relies on for deterministic, bounded threading.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// glibc's mallopt, for TensorAllocator (Sources/Tensor/Allocator.swift): the engine's
// memory behaviour is set beside its GEMM, the only other C the engine calls.
#if defined(__linux__)
#include <malloc.h>
#endif
